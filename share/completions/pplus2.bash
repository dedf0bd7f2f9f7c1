# bash completion for pplus2: its options, and the values some of them take.
# Installed by scripts/install.sh into PREFIX/share/bash-completion/completions/pplus2.
_pplus2() {
    local current previous
    current=${COMP_WORDS[COMP_CWORD]}
    previous=${COMP_WORDS[COMP_CWORD-1]}
    case $previous in
        --dir)
            # Folders, one per line so that names with spaces stay whole; -o filenames
            # quotes them and adds the trailing / instead of a space.
            compopt -o filenames 2>/dev/null
            local IFS=$'\n'
            COMPREPLY=($(compgen -d -- "$current"))
            return ;;
        --port | --gossip-interval | --timeout | --discovery-ttl | --max-download-size | --bootstrap | --host | --bind)
            # A number, an address: nothing to offer but the option's own form.
            return ;;
    esac
    COMPREPLY=($(compgen -W "--port --bootstrap --dir --host --bind --gossip-interval --timeout
        --no-console --discover --discovery-ttl --max-download-size --verbose --help --version" -- "$current"))
}
complete -F _pplus2 pplus2
