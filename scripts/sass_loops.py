#!/usr/bin/env python3
"""The instruction mix of every loop of a CUDA kernel's SASS: for static
comparisons of kernels without a GPU (attngen's against each other, or
against FlashAttention's compiled by nvcc).

usage: sass_loops.py KERNEL.ptx|KERNEL.cubin [--arch sm_90] [--nvdisasm PATH]
                     [--ptxas PATH] [--min-mma 8]

A .ptx file is assembled by ptxas (its -v report is printed). The cubin is
disassembled by nvdisasm; CUDA 13 ships none, so scripts/fetch-nvdisasm.sh
extracts CUDA 11.8's from Debian's non-free archive, and this script gives
it a copy of the cubin with the ELF header of 11.8's cubins (OS/ABI 0x21,
ABI version 7, e_flags (sm << 16) | 0x500 | sm): 11.8's nvdisasm reads the
sections of 13's cubins as they are. Per kernel and loop (a backward branch
and its target), the instruction count, the tensor-core MMAs (HMMA) among
them, the others per MMA, and the count of each opcode (modifiers dropped),
most frequent first, and the loops nested in it (run several times per
iteration, which the static count does not show). Loops with fewer than
--min-mma MMAs are left out. Cold code that ptxas places after a loop's
backward branch is not counted.

Accumulator chains: an HMMA that accumulates into the registers an earlier
HMMA wrote waits for that one's result (a fixed-latency dependency, ncu's
"wait" stall when too few MMAs lie between). Per loop, the count of HMMAs
by how many other HMMAs separate each from the one it depends on (through
the loop's back edge too: the last k-step's MMAs feed the next tile's
first, for PV's accumulators), and the shortest such distance.
"""
import argparse
import collections
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

DEFAULT_NVDISASM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build",
                                "nvdisasm-11.8", "usr", "bin", "nvdisasm")


def fail(message):
    print(f"sass_loops: {message}", file=sys.stderr)
    sys.exit(1)


def find_tool(given, name, fallbacks):
    for candidate in [given] + [shutil.which(name)] + fallbacks:
        if candidate and os.path.exists(candidate):
            return candidate
    fail(f"{name} not found (pass --{name})")


def legacy_header_copy(cubin, sm, directory):
    """A copy of `cubin` whose ELF header has the pre-CUDA-12 layout."""
    data = bytearray(open(cubin, "rb").read())
    if data[:4] != b"\x7fELF":
        fail(f"{cubin} is not an ELF cubin")
    data[7] = 0x21
    data[8] = 7
    struct.pack_into("<I", data, 0x30, (sm << 16) | 0x500 | sm)
    path = os.path.join(directory, "legacy.cubin")
    with open(path, "wb") as f:
        f.write(data)
    return path


def opcode(text):
    text = re.sub(r"^@!?U?P[T0-9]+\s+", "", text)
    return text.split()[0].split(".")[0]


def registers(operand, count):
    """The `count` registers starting at `operand` (R12 -> R12..), or none."""
    match = re.fullmatch(r"R(\d+)", operand.strip())
    if not match:
        return set()
    first = int(match.group(1))
    return set(range(first, first + count))


def hmma_chain_distances(texts):
    """Per HMMA of a loop's `texts` that accumulates onto an earlier one's
    result, the count of HMMAs between them (in the loop's circular order)."""
    mmas = []
    for text in texts:
        if opcode(text) != "HMMA":
            continue
        # HMMA.16816.F32[.BF16] D, A, B, C: D and C are 4 registers for an
        # f32 accumulator, 2 for f16.
        operands = text.split(None, 1)[1].split(",")
        width = 4 if ".F32" in text.split()[0] else 2
        mmas.append((registers(operands[0], width), registers(operands[3], width)))
    distances = []
    for i, (_, accumulator) in enumerate(mmas):
        for back in range(1, len(mmas) + 1):
            written, _ = mmas[(i - back) % len(mmas)]
            if accumulator and written & accumulator:
                distances.append(back - 1)
                break
    return distances


def kernels(sass):
    """(name, [(address, text)], {label: index}) per .text section."""
    result = []
    name, instructions, labels = None, [], {}
    for line in sass.splitlines():
        section = re.match(r"\s*\.section\s+\.text\.([^,\s]+)", line)
        if section:
            if name:
                result.append((name, instructions, labels))
            name, instructions, labels = section.group(1), [], {}
            continue
        label = re.match(r"\s*(\.L_x_\d+):", line)
        if label:
            labels[label.group(1)] = len(instructions)
            continue
        instruction = re.match(r"\s*/\*([0-9a-f]{4,})\*/\s+(.*?)\s*;", line)
        if instruction and name:
            instructions.append((int(instruction.group(1), 16), instruction.group(2)))
    if name:
        result.append((name, instructions, labels))
    return result


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("kernel")
    parser.add_argument("--arch", default="sm_90")
    parser.add_argument("--nvdisasm")
    parser.add_argument("--ptxas")
    parser.add_argument("--min-mma", type=int, default=8)
    args = parser.parse_args()
    if not os.path.exists(args.kernel):
        fail(f"{args.kernel}: no such file")
    sm = int(args.arch.removeprefix("sm_"))
    nvdisasm = find_tool(args.nvdisasm, "nvdisasm", [DEFAULT_NVDISASM])
    with tempfile.TemporaryDirectory() as directory:
        cubin = args.kernel
        if args.kernel.endswith(".ptx"):
            ptxas = find_tool(args.ptxas, "ptxas", ["/usr/local/cuda/bin/ptxas"])
            cubin = os.path.join(directory, "kernel.cubin")
            assembled = subprocess.run([ptxas, "-v", f"-arch={args.arch}", args.kernel, "-o", cubin],
                                       capture_output=True, text=True)
            if assembled.returncode != 0:
                fail(f"ptxas failed: {assembled.stderr.strip()}")
            for line in assembled.stderr.splitlines():
                if "Used" in line or "spill" in line:
                    print(line.strip())
        disassembled = subprocess.run([nvdisasm, "-c", legacy_header_copy(cubin, sm, directory)],
                                      capture_output=True, text=True)
        if disassembled.returncode != 0:
            fail(f"nvdisasm failed: {disassembled.stderr.strip()}")
    for name, instructions, labels in kernels(disassembled.stdout):
        print(f"{name}: {len(instructions)} instructions")
        loops = []  # (begin, end) of each backward branch's loop
        for end, (_, text) in enumerate(instructions):
            branch = re.search(r"BRA\s+(?:`\()?(\.L_x_\d+)", text)
            if branch and labels.get(branch.group(1), end + 1) <= end:
                loops.append((labels[branch.group(1)], end))
        for begin, end in loops:
            counts = collections.Counter(opcode(t) for _, t in instructions[begin:end + 1])
            mmas = counts["HMMA"]
            if mmas < args.min_mma:
                continue
            total = end + 1 - begin
            per_mma = f", {(total - mmas) / mmas:.2f} others per HMMA" if mmas else ""
            print(f"  loop {instructions[begin][0]:#x}-{instructions[end][0]:#x}: {total} "
                  f"instructions, {mmas} HMMA{per_mma}")
            print("    " + ", ".join(f"{op} {n}" for op, n in counts.most_common()))
            # Loops inside this one (the checked copies' chunk loops) run
            # several times per iteration: its static count leaves them out.
            inner = [(b, e) for b, e in loops if begin < b and e < end]
            if inner:
                print("    inner loops (instructions per iteration): "
                      + ", ".join(f"{instructions[b][0]:#x} {e + 1 - b}" for b, e in inner))
            distances = hmma_chain_distances([t for _, t in instructions[begin:end + 1]])
            if distances:
                histogram = collections.Counter(min(d, 8) for d in distances)
                print(f"    accumulator chains: {len(distances)} dependent HMMAs, "
                      f"shortest {min(distances)} MMAs between; by MMAs between: "
                      + ", ".join(f"{d if d < 8 else '8+'}: {histogram[d]}"
                                  for d in sorted(histogram)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
