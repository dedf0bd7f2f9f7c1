#!/usr/bin/env bash
# A three-peer P+2 swarm on loopback, and a console in front of you.
#
# Builds pplus2 once, copies share/demo/{alice,bob,carol} into a temporary
# folder (so downloads never touch the repository), starts alice and bob in the
# background on free ports, and runs carol's console in the foreground,
# bootstrapped to bob, who was bootstrapped to alice. Type a query such as
# "report" or "notes", then a number to download. Ctrl-D, /quit or Ctrl-C twice ends
# the demo; the background peers it started, and only those, are stopped.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
command -v swift >/dev/null || PATH="/opt/swift/usr/bin:$PATH"

echo "building pplus2 (release)..." >&2
swift build -c release --package-path "$root" --product pplus2 >&2
bin=$(swift build -c release --package-path "$root" --show-bin-path)/pplus2

work=$(mktemp -d "${TMPDIR:-/tmp}/pplus2-demo.XXXXXX")
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cp -R "$root/share/demo/." "$work/"

# Starts a background peer and sets $port to its base port, read from its
# readiness line. (No $(...) here: the subshell would wait for the peer.)
start_peer() {
    local name=$1
    shift
    "$bin" --port 0 --bind 127.0.0.1 --dir "$work/$name" --no-console --gossip-interval 2 "$@" \
        </dev/null >/dev/null 2>"$work/$name.log" &
    pids+=("$!")
    local line=""
    for _ in $(seq 100); do
        line=$(grep -m1 '^listening on ' "$work/$name.log" || true)
        [ -n "$line" ] && break
        sleep 0.05
    done
    [ -n "$line" ] || { echo "demo: $name did not start:" >&2; cat "$work/$name.log" >&2; exit 1; }
    port=$(echo "$line" | sed -E 's/^listening on [0-9.]+:([0-9]+) .*/\1/')
}

start_peer alice
alice=$port
start_peer bob --bootstrap "127.0.0.1:$alice"
bob=$port
echo "alice serves $work/alice on 127.0.0.1:$alice; bob serves $work/bob on 127.0.0.1:$bob" >&2
echo "you are carol, sharing $work/carol. Try: report, notes, CAFÉ, or an empty line for everything." >&2

# The demo's console history stays in the demo's folder, out of the user's own.
XDG_STATE_HOME="$work/state" "$bin" --port 0 --bind 127.0.0.1 --dir "$work/carol" --bootstrap "127.0.0.1:$bob" \
    --gossip-interval 2
