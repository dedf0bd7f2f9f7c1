#!/usr/bin/env bash
# Checks what scripts/install.sh installs, into a temporary prefix: the binary
# runs, the man page renders (man -l), the completions parse (bash -n, zsh -n
# where zsh is installed), the systemd example names the installed binary, and
# install.sh refuses a bad argument with exit 2. Run by .ci/run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
prefix=$(mktemp -d "${TMPDIR:-/tmp}/pplus2-install.XXXXXX")
trap 'rm -rf "$prefix"' EXIT

"$root/scripts/install.sh" --prefix "$prefix" >"$prefix/install.log"
grep -q "^to uninstall: rm -f " "$prefix/install.log"
"$prefix/bin/pplus2" --version | grep -q '^pplus2 '
"$prefix/bin/pplus2" -V | grep -q '^pplus2 '
MANWIDTH=80 man -l "$prefix/share/man/man1/pplus2.1" 2>/dev/null | grep -q "downloads"
bash -n "$prefix/share/bash-completion/completions/pplus2"
bash -c "source '$prefix/share/bash-completion/completions/pplus2'; COMP_WORDS=(pplus2 --ver); COMP_CWORD=1; _pplus2;
    [ \"\${COMPREPLY[*]}\" = --verbose ] || [ \"\${COMPREPLY[*]}\" = '--verbose --version' ]"
if command -v zsh >/dev/null; then zsh -n "$prefix/share/zsh/site-functions/_pplus2"; fi
grep -q '^ExecStart=%h/.local/bin/pplus2 --no-console' "$root/share/systemd/pplus2.service"
status=0
"$root/scripts/install.sh" --bogus 2>"$prefix/error" || status=$?
[ "$status" = 2 ] && grep -q "unknown argument '--bogus'" "$prefix/error"
echo "install check: ok"
