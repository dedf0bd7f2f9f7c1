#!/usr/bin/env bash
# Builds pplus2 in release and installs it for one user (default prefix ~/.local):
#   PREFIX/bin/pplus2
#   PREFIX/share/man/man1/pplus2.1
#   PREFIX/share/bash-completion/completions/pplus2
#   PREFIX/share/zsh/site-functions/_pplus2
# then prints how to uninstall (the same files, removed).
#   scripts/install.sh [--prefix DIR]
set -euo pipefail

prefix="$HOME/.local"
while [ $# -gt 0 ]; do
    case $1 in
        --prefix)
            [ $# -ge 2 ] && [ -n "$2" ] || { echo "install.sh: error: --prefix needs a folder" >&2; exit 2; }
            prefix=$2
            shift 2 ;;
        --prefix=*)
            prefix=${1#--prefix=}
            [ -n "$prefix" ] || { echo "install.sh: error: --prefix needs a folder" >&2; exit 2; }
            shift ;;
        -h | --help)
            sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'
            exit 0 ;;
        *)
            echo "install.sh: error: unknown argument '$1' (usage: scripts/install.sh [--prefix DIR])" >&2
            exit 2 ;;
    esac
done

root=$(cd "$(dirname "$0")/.." && pwd)
command -v swift >/dev/null || PATH="/opt/swift/usr/bin:$PATH"
echo "building pplus2 (release)..." >&2
swift build -c release --package-path "$root" --product pplus2 >&2
bin=$(swift build -c release --package-path "$root" --show-bin-path)/pplus2

files=(
    "bin/pplus2:$bin:755"
    "share/man/man1/pplus2.1:$root/share/man/man1/pplus2.1:644"
    "share/bash-completion/completions/pplus2:$root/share/completions/pplus2.bash:644"
    "share/zsh/site-functions/_pplus2:$root/share/completions/_pplus2:644"
)
installed=()
for entry in "${files[@]}"; do
    IFS=: read -r target source mode <<<"$entry"
    install -D -m "$mode" "$source" "$prefix/$target"
    installed+=("$prefix/$target")
    echo "installed $prefix/$target"
done
echo
echo "bash completion: new shells load it by themselves when the bash-completion package is installed and"
echo "  $prefix/share is in XDG_DATA_DIRS (as ~/.local/share is); else add to ~/.bashrc:"
echo "  source $prefix/share/bash-completion/completions/pplus2"
echo "zsh completion: add to ~/.zshrc, before compinit: fpath=($prefix/share/zsh/site-functions \$fpath)"
echo
echo "to uninstall: rm -f ${installed[*]}"
case ":$PATH:" in
    *":$prefix/bin:"*) ;;
    *) echo "note: $prefix/bin is not on your PATH" ;;
esac
