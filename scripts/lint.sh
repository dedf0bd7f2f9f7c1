#!/usr/bin/env bash
# The house rules that a compiler does not check: `swift format lint --strict`
# on every Swift file, and no function over 60 lines nor file over 400 lines in
# Sources and the benchmark's Python (a longer one usually holds two ideas). CI runs it before the tests.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v swift >/dev/null || export PATH="/opt/swift/usr/bin:$PATH"
swift format lint --strict -r Sources Tests Package.swift
python3 scripts/lint-lengths.py Sources scripts/benchlib scripts/bench scripts/lint-lengths.py
