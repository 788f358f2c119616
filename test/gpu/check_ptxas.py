#!/usr/bin/env python3
"""Compiles every spec in SPECS_DIR to PTX for sm_80 and sm_90 and runs
`ptxas -v` on each kernel. Fails on any spill, stack frame or local-memory
access; prints registers and shared memory per kernel.

usage: check_ptxas.py ATTNGEN PTXAS SPECS_DIR WORKDIR
f32 specs must be refused with the documented error (they run on the CPU).
"""
import json
import os
import re
import subprocess
import sys


def main():
    attngen, ptxas, specs_dir, workdir = sys.argv[1:5]
    os.makedirs(workdir, exist_ok=True)
    passed = failed = 0
    for name in sorted(os.listdir(specs_dir)):
        if not name.endswith(".json"):
            continue
        spec_path = os.path.join(specs_dir, name)
        spec = json.load(open(spec_path))
        for target in ("sm_80", "sm_90"):
            label = f"{name[:-5]:<22} {target}"
            ptx = os.path.join(workdir, f"{name[:-5]}.{target}.ptx")
            result = subprocess.run([attngen, "compile", spec_path, "--target", target,
                                     "--emit", "ptx", "-o", ptx], capture_output=True, text=True)
            if spec["dtype"] == "f32":
                ok = result.returncode == 1 and "run on the CPU target" in result.stderr
                print(f"{'ok  ' if ok else 'FAIL'} {label} f32: refused as documented")
                passed, failed = passed + ok, failed + (not ok)
                continue
            if result.returncode != 0:
                print(f"FAIL {label} compile: {result.stderr.strip()}")
                failed += 1
                continue
            gpu_ir = subprocess.run([attngen, "compile", spec_path, "--target", target,
                                     "--emit", "gpu-ir", "-o", "-"], capture_output=True, text=True).stdout
            smem = re.search(r"attn.shared_memory_bytes = (\d+)", gpu_ir)
            report = subprocess.run([ptxas, f"-arch={target}", "-v", ptx, "-o", os.devnull],
                                    capture_output=True, text=True)
            text = report.stdout + report.stderr
            # The attention kernel and, for split-KV specs, the merge kernel:
            # the most registers any entry uses.
            used = [int(x) for x in re.findall(r"Used (\d+) registers", text)]
            registers = str(max(used)) if used else None
            spills = [int(x) for x in re.findall(r"(\d+) bytes spill (?:stores|loads)", text)]
            stack = [int(x) for x in re.findall(r"(\d+) bytes stack frame", text)]
            local = re.search(r"\b(ld|st)\.local\b", open(ptx).read())
            problems = []
            if report.returncode != 0:
                problems.append("ptxas failed: " + text.strip().splitlines()[-1])
            if any(spills):
                problems.append(f"spills {spills}")
            if any(stack):
                problems.append(f"stack frame {stack}")
            if local:
                problems.append("local memory access in PTX")
            text_ptx = open(ptx).read()
            if "mma.sync.aligned.m16n8k16" not in text_ptx:
                problems.append("no tensor-core mma.sync")
            if "ldmatrix.sync.aligned" not in text_ptx:
                problems.append("no ldmatrix")
            if spec["head_dim"] % 8 == 0 and "cp.async" not in text_ptx:
                problems.append("no cp.async")
            status = "FAIL" if problems else "ok  "
            print(f"{status} {label} registers {registers or '?':>3}, "
                  f"dynamic smem {smem.group(1) if smem else '?':>6} B"
                  + (": " + "; ".join(problems) if problems else ""))
            passed, failed = passed + (not problems), failed + bool(problems)
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
