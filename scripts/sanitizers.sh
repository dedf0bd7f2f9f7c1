#!/usr/bin/env bash
# Runs the whole test suite under ThreadSanitizer, then AddressSanitizer, each
# in its own build folder. Slower than `swift test` (a few minutes each).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
command -v swift >/dev/null || PATH="/opt/swift/usr/bin:$PATH"
cd "$root"
# Foundation leaks (not ours), which LeakSanitizer is told of: Process.run() 64 bytes once,
# FileManager.contents(atPath:) 4096 bytes for an empty file.
export LSAN_OPTIONS="suppressions=$root/scripts/lsan.supp"
# Foundation's Process.run() copies 256 bytes of a directory entry past the end of
# readdir's buffer (findMaximumOpenFromProcSelfFD, not ours): AddressSanitizer is told so.
export ASAN_OPTIONS="suppressions=$root/scripts/asan.supp"
# Shadow memory and quarantine multiply a process's memory: tests skip their RSS bounds.
export PPLUS2_UNDER_SANITIZER=1
# --disable-xctest: the suite is Swift Testing only; the empty XCTest pass leaks on its own.
swift test --disable-xctest --sanitize=thread --scratch-path .build-tsan
swift test --disable-xctest --sanitize=address --scratch-path .build-asan
