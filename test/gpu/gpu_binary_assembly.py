#!/usr/bin/env python3
"""Prints the assembly (PTX) of the first gpu.object of a gpu.binary in MLIR
text, with MLIR's string escapes (\\XX: a byte in hex, \\\\: a backslash)
decoded.

usage: gpu_binary_assembly.py FILE.mlir
"""
import re
import sys


def main():
    text = open(sys.argv[1]).read()
    match = re.search(r'assembly = "((?:[^"\\]|\\.)*)"', text)
    if not match:
        print(f"gpu_binary_assembly: no gpu.object assembly in {sys.argv[1]}", file=sys.stderr)
        return 1
    escaped = match.group(1)
    sys.stdout.write(re.sub(r"\\([0-9A-Fa-f]{2}|\\)",
                            lambda m: "\\" if m.group(1) == "\\" else chr(int(m.group(1), 16)),
                            escaped))
    return 0


if __name__ == "__main__":
    sys.exit(main())
