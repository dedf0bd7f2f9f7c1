#!/usr/bin/env bash
# Runs the libFuzzer target over every network parser for a bounded time.
#
#   scripts/fuzz.sh [SECONDS]    (default 60)
#
# Builds pplus2-fuzz with -sanitize=fuzzer (and address) in .build-fuzz/, keeps
# its corpus in .build-fuzz/corpus, and writes any crashing input to
# .build-fuzz/crash-*; replay one with `swift run pplus2-fuzz FILE`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
seconds=${1:-60}
command -v swift >/dev/null || PATH="/opt/swift/usr/bin:$PATH"
cd "$root"
swift build --product pplus2-fuzz --scratch-path .build-fuzz -c release \
    --sanitize=fuzzer --sanitize=address -Xswiftc -DFUZZING
bin=$(swift build --product pplus2-fuzz --scratch-path .build-fuzz -c release --show-bin-path)/pplus2-fuzz
mkdir -p .build-fuzz/corpus
printf '127.0.0.1:5000\n' >.build-fuzz/corpus/identity
printf 'report.pdf\r\n' >.build-fuzz/corpus/name
printf '10.0.0.1:5000\n0.0.0.0:1\nx\n' >.build-fuzz/corpus/list
printf '\001get 0 - - report.pdf\n' >.build-fuzz/corpus/get
printf '\001P+2x/1 5 -' >.build-fuzz/corpus/header
printf '\001P+2x/1\n0 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 e.txt\n' >.build-fuzz/corpus/find
printf 'pplus2-hashes 1\n5 17 42 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 a.txt\n' \
    >.build-fuzz/corpus/hashes
# SWIFT_BACKTRACE off: otherwise the Swift runtime handles the crash and no crash file is written.
SWIFT_BACKTRACE=enable=no "$bin" -max_total_time="$seconds" -max_len=8192 \
    -artifact_prefix=.build-fuzz/ .build-fuzz/corpus
