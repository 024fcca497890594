# vmlab.bash — bash completion for vmlab (installed as share/bash-completion/completions/vmlab).
#
# Issue 20: a tool handed to students should complete its commands and options. Nothing here is a
# copy of vmlab's lists: the completion asks the vmlab being completed (the command word as
# typed, e.g. build/vmlab or vmlab on PATH) for its commands (`vmlab help`), each command's
# options (`vmlab CMD --help`: every --option on an option line) and the modes
# (`vmlab run --list-modes`), and keeps each answer for the rest of the shell session. So a new
# option or command is completed as soon as its --help shows it.
#
# Values: --mode/--modes complete mode names (--modes as a comma-separated list); --db, --guest,
# --initrd, --suite, --console, --model and the arguments of `vmlab merge` complete file names;
# --out and --logs directories; --trace, --scale, --phase and --sort their documented words;
# --group the `group:` values of the suite file named by --suite on the same line.
# tests/integration/install_docs.sh checks `vmlab st` -> stat and `vmlab stat --mo` -> --mode,
# --model.

# _vmlab_ask KEY CMD...: the output of `CMD...` (stderr dropped), cached in _vmlab_cache[KEY].
_vmlab_ask()
{
    local key=$1
    shift
    if [[ -z ${_vmlab_cache[$key]+set} ]]; then
        _vmlab_cache[$key]=$("$@" 2>/dev/null)
    fi
    printf '%s\n' "${_vmlab_cache[$key]}"
}
declare -gA _vmlab_cache 2>/dev/null || declare -A _vmlab_cache

_vmlab()
{
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    local exe=${COMP_WORDS[0]} cmd="" i
    exe=${exe/#\~/$HOME}
    for ((i = 1; i < COMP_CWORD; i++)); do
        if [[ ${COMP_WORDS[i]} != -* ]]; then
            cmd=${COMP_WORDS[i]}
            break
        fi
    done
    COMPREPLY=()

    if [[ -z $cmd ]]; then
        local cmds
        cmds=$(_vmlab_ask "$exe:help" "$exe" help | awk '/^  [a-z][a-z-]*  +[^ ]/ { print $1 }')
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "--help --version" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$cmds help" -- "$cur"))
        fi
        return 0
    fi

    local modes
    case $prev in
    --mode)
        modes=$(_vmlab_ask "$exe:modes" "$exe" run --list-modes | awk '{ print $1 }')
        COMPREPLY=($(compgen -W "$modes" -- "$cur"))
        return 0
        ;;
    --modes)
        modes=$(_vmlab_ask "$exe:modes" "$exe" run --list-modes | awk '{ print $1 }')
        local head="" last=$cur
        if [[ $cur == *,* ]]; then
            head=${cur%,*},
            last=${cur##*,}
        fi
        COMPREPLY=($(compgen -P "$head" -W "$modes" -- "$last"))
        compopt -o nospace 2>/dev/null
        return 0
        ;;
    --db | --guest | --initrd | --suite | --console | --model)
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -f -- "$cur"))
        return 0
        ;;
    --out | --logs)
        compopt -o filenames 2>/dev/null
        COMPREPLY=($(compgen -d -- "$cur"))
        return 0
        ;;
    --trace) COMPREPLY=($(compgen -W "counts full" -- "$cur")); return 0 ;;
    --scale) COMPREPLY=($(compgen -W "small paper" -- "$cur")); return 0 ;;
    --phase)
        COMPREPLY=($(compgen -W "all setup measured teardown calibration" -- "$cur"))
        return 0
        ;;
    --sort) COMPREPLY=($(compgen -W "samples cycles time avg event" -- "$cur")); return 0 ;;
    --group)
        local suite="" j groups
        for ((j = 1; j < COMP_CWORD - 1; j++)); do
            [[ ${COMP_WORDS[j]} == --suite ]] && suite=${COMP_WORDS[j + 1]}
        done
        suite=${suite/#\~/$HOME}
        [[ -r $suite ]] || return 0
        groups=$(awk '/^[[:space:]]*group:/ { print $2 }' "$suite" | sort -u)
        COMPREPLY=($(compgen -W "$groups" -- "$cur"))
        return 0
        ;;
    esac

    if [[ $cur == -* || $cmd != merge ]]; then
        local opts
        opts=$(_vmlab_ask "$exe:$cmd:opts" "$exe" "$cmd" --help |
            grep -E '^ +-' | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u)
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return 0
    fi
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -- "$cur")) # vmlab merge OUT.db IN.db...
    return 0
}
complete -F _vmlab vmlab
