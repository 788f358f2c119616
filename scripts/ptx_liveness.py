#!/usr/bin/env python3
"""Register pressure of a PTX kernel, before ptxas: the most 32-bit virtual
registers live at one point, where, and what defined them.

usage: ptx_liveness.py KERNEL.ptx [--entry NAME] [--list]

Liveness is the textbook backward dataflow over the entry's basic blocks
(labels start blocks, bra/ret end them); a 64-bit register counts 2, a
predicate 0. ptxas schedules and rematerializes on its own, so the number is
a guide to what stays live across a loop (e.g. 64-bit address arithmetic),
not ptxas's register count. --list prints every live register at the peak
with its defining instruction.
"""
import argparse
import collections
import re
import sys

REGISTER = re.compile(r"%(?:rd|r|f|fd|p|rs|h|hh)\d+")
WIDTH = {"rd": 2, "fd": 2, "p": 0}
# Opcodes whose first operand is read, not written.
NO_DEFINITION = ("st.", "bar", "bra", "ret", "cp.async", "prefetch", "red.", "membar", "fence")


def width(register):
    return WIDTH.get(re.match(r"%([a-z]+)", register).group(1), 1)


def statements(body):
    """The entry's statements, comments dropped, labels as 'NAME:'."""
    body = "\n".join(line.split("//")[0] for line in body.split("\n"))
    body = re.sub(r"(\$\w+:)", r"\1;", body)
    for text in body.split(";"):
        text = " ".join(text.replace("{", " { ").replace("}", " } ").split())
        text = text.strip("{} ").strip()
        if text and not text.startswith("."):
            yield text


def uses_and_definitions(statement):
    if statement.endswith(":"):
        return [], []
    guard = re.match(r"^@!?(%p\d+)\s+", statement)
    text = statement[guard.end():] if guard else statement
    uses = [guard.group(1)] if guard else []
    opcode = text.split()[0]
    if opcode.startswith(NO_DEFINITION):
        return uses + REGISTER.findall(text), []
    first = re.match(r"^\S+\s+(\{[^}]*\}|[^,]+)", text)
    if not first:
        return uses + REGISTER.findall(text), []
    return uses + REGISTER.findall(text[first.end():]), REGISTER.findall(first.group(1))


def basic_blocks(lines):
    blocks, current = [], []
    for statement in lines:
        if statement.endswith(":") and current:
            blocks.append(current)
            current = []
        current.append(statement)
        if re.match(r"^(@!?%p\d+\s+)?(bra|ret)", statement):
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def successors(blocks):
    labels = {b[0][:-1]: i for i, b in enumerate(blocks) if b[0].endswith(":")}
    result = []
    for i, block in enumerate(blocks):
        last = block[-1]
        target = re.search(r"\bbra(?:\.uni)?\s+(\$?\w+)", last)
        unconditional = re.match(r"^(bra|ret)", last)
        next_blocks = [labels[target.group(1)]] if target else []
        if not unconditional and i + 1 < len(blocks):
            next_blocks.append(i + 1)
        result.append(next_blocks)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("ptx")
    parser.add_argument("--entry", help="the .entry to analyze (default: the first)")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    text = open(args.ptx).read()
    entries = re.finditer(r"\.entry\s+(\w+)\s*\((.*?)\)[^{]*\{(.*?)\n\}", text, re.S)
    entry = next((e for e in entries if args.entry in (None, e.group(1))), None)
    if entry is None:
        print(f"ptx_liveness: no .entry {args.entry or ''} in {args.ptx}", file=sys.stderr)
        return 1
    blocks = basic_blocks(list(statements(entry.group(3))))
    next_blocks = successors(blocks)
    live_in = [set() for _ in blocks]
    changed = True
    while changed:
        changed = False
        for i in reversed(range(len(blocks))):
            live = set().union(*(live_in[j] for j in next_blocks[i]))
            for statement in reversed(blocks[i]):
                uses, definitions = uses_and_definitions(statement)
                live = (live - set(definitions)) | set(uses)
            if live != live_in[i]:
                live_in[i], changed = live, True
    defined_by = {}
    for block in blocks:
        for statement in block:
            for register in uses_and_definitions(statement)[1]:
                defined_by.setdefault(register, statement)
    peak, where, peak_set = -1, None, set()
    for i, block in enumerate(blocks):
        live = set().union(*(live_in[j] for j in next_blocks[i]))
        for statement in reversed(block):
            pressure = sum(width(r) for r in live)
            if pressure > peak:
                peak, where, peak_set = pressure, statement, set(live)
            uses, definitions = uses_and_definitions(statement)
            live = (live - set(definitions)) | set(uses)
    print(f"{entry.group(1)}: {peak} 32-bit registers live after: {where}")
    by_opcode = collections.Counter()
    for register in peak_set:
        definition = defined_by.get(register, "(parameter) ")
        by_opcode[definition.split()[0]] += width(register)
    for opcode, count in by_opcode.most_common():
        print(f"{count:5d}  {opcode}")
    if args.list:
        for register in sorted(peak_set):
            print(f"  {register:8s} {defined_by.get(register, '(parameter)')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
