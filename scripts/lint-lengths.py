#!/usr/bin/env python3
"""Prints every Swift file over 400 lines and every function, initializer or
computed property over 60 lines under the given folders; exits 1 if any."""
import os
import re
import sys

MAX_FILE, MAX_FUNCTION = 400, 60
DECLARATION = re.compile(
    r"^\s*(@\w+(\([^)]*\))? |public |private |fileprivate |internal |static |mutating |override |nonisolated )*"
    r"(func |init[?(<]|deinit|var \w+.*\{\s*$)"
)


def braces(line):
    line = re.sub(r'"(\\.|[^"\\])*"', "", line)
    line = re.sub(r"//.*", "", line)
    return line.count("{") - line.count("}"), "{" in line


def check(path):
    problems = []
    lines = open(path, encoding="utf-8").read().split("\n")
    if len(lines) > MAX_FILE:
        problems.append(f"{path}: {len(lines)} lines (at most {MAX_FILE})")
    index = 0
    while index < len(lines):
        if not DECLARATION.search(lines[index]) or lines[index].strip().startswith("//"):
            index += 1
            continue
        depth, opened, end = 0, False, index
        while end < len(lines):
            change, has_open = braces(lines[end])
            depth += change
            opened = opened or has_open
            if opened and depth <= 0:
                break
            end += 1
        length = end - index + 1
        if opened and length > MAX_FUNCTION:
            problems.append(f"{path}:{index + 1}: {length} lines (at most {MAX_FUNCTION}): {lines[index].strip()}")
        index = end + 1 if opened else index + 1
    return problems


problems = []
for folder in sys.argv[1:]:
    for root, _, files in os.walk(folder):
        problems += [p for name in sorted(files) if name.endswith(".swift") for p in check(os.path.join(root, name))]
print("\n".join(problems))
sys.exit(1 if problems else 0)
