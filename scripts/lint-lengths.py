#!/usr/bin/env python3
"""Prints every Swift or Python file over 400 lines and every function,
initializer or computed property over 60 lines under the given folders (and
the given files); exits 1 if any."""
import ast
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


def check_python(path):
    text = open(path, encoding="utf-8").read()
    problems = [f"{path}: {text.count(chr(10))} lines (at most {MAX_FILE})"] if text.count("\n") > MAX_FILE else []
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.FunctionDef) and node.end_lineno - node.lineno + 1 > MAX_FUNCTION:
            length = node.end_lineno - node.lineno + 1
            problems.append(f"{path}:{node.lineno}: {length} lines (at most {MAX_FUNCTION}): def {node.name}")
    return problems


problems = []
for target in sys.argv[1:]:
    if os.path.isfile(target):
        problems += check_python(target)
        continue
    for root, _, files in os.walk(target):
        for name in sorted(files):
            path = os.path.join(root, name)
            if name.endswith(".swift"):
                problems += check(path)
            elif name.endswith(".py"):
                problems += check_python(path)
print("\n".join(problems))
sys.exit(1 if problems else 0)
