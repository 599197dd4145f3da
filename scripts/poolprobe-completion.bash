# poolprobe-completion.bash — bash completion for poolprobe and poolprobe-report.
#
# Installed by `make install` as both commands' completion (bash-completion loads it by command
# name). Options, formats and threshold names come from the command's own --help and
# --list-thresholds, so they never drift from what the installed version accepts.
# shellcheck shell=bash

# _poolprobe_report_complete CMD...: complete poolprobe-report's arguments for the command CMD
# (poolprobe-report, or "poolprobe report"), with COMP_WORDS[1..] its arguments.
_poolprobe_report_complete() {
    local cur=$1 prev=$2 value
    shift 2
    local -a cmd=("$@")
    if [[ $cur == --*=* ]]; then
        prev=${cur%%=*}
        cur=${cur#*=}
    fi
    case $prev in
    -f | --format) value="text json markdown folded pprof html" ;;
    -g | --group-by) value="site stack" ;;
    --folded-value) value="allocs bytes live-bytes" ;;
    -t | --threshold | --gate-threshold)
        # --list-thresholds lists the checklist's names, then (after a blank line and a title
        # naming --gate-threshold) the gate's.
        value=$("${cmd[@]}" --list-thresholds 2>/dev/null | awk -v gate="$([[ $prev == --gate-threshold ]] && echo 1)" '
            /^Regression gate/ { in_gate = 1 }
            /^  [a-z_]+ / { if ((in_gate && gate) || (!in_gate && !gate)) print $1 "=" }')
        compopt -o nospace 2>/dev/null
        ;;
    -b | --baseline | --write-baseline | --suppress)
        compopt -o default 2>/dev/null
        COMPREPLY=()
        return
        ;;
    -n | --top | --ops | -s | --site | -w | --wrappers)
        COMPREPLY=()
        return
        ;;
    *)
        if [[ $cur == -* ]]; then
            # "--format=" when the help shows the option with a value anywhere.
            value=$("${cmd[@]}" --help 2>/dev/null | grep -oE -- '--[a-z][a-z-]*=?' | sort -u |
                awk '{ seen[$0] = 1; order[NR] = $0 }
                     END { for (i = 1; i <= NR; i++) if (!seen[order[i] "="]) print order[i] }')
            compopt -o nospace 2>/dev/null
            mapfile -t COMPREPLY < <(compgen -W "$value" -- "$cur" | sed 's/[^=]$/& /')
            return
        fi
        compopt -o default 2>/dev/null # a trace: any file
        COMPREPLY=()
        return
        ;;
    esac
    mapfile -t COMPREPLY < <(compgen -W "$value" -- "$cur")
}

_poolprobe_report() {
    _poolprobe_report_complete "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}" \
        "${COMP_WORDS[0]}"
}

_poolprobe() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
    if [ "$COMP_CWORD" -eq 1 ]; then
        mapfile -t COMPREPLY < <(compgen -W "run report --help --version" -- "$cur")
        return
    fi
    case ${COMP_WORDS[1]} in
    report)
        if [ "$COMP_CWORD" -eq 2 ]; then prev=report; fi
        _poolprobe_report_complete "$cur" "$prev" "${COMP_WORDS[0]}" report
        ;;
    run)
        # Options of run until the program; then the program's own arguments (files).
        local i
        for ((i = 2; i < COMP_CWORD; i++)); do
            case ${COMP_WORDS[i]} in
            -o | --output) ((i++)) ;;
            -*) ;;
            *) compopt -o default 2>/dev/null; COMPREPLY=(); return ;;
            esac
        done
        case $prev in
        -o | --output) compopt -o default 2>/dev/null; COMPREPLY=(); return ;;
        esac
        if [[ $cur == -* ]]; then
            mapfile -t COMPREPLY < <(compgen -W "-o --output -- --help" -- "$cur")
        else
            mapfile -t COMPREPLY < <(compgen -c -- "$cur")
        fi
        ;;
    esac
}

complete -F _poolprobe_report poolprobe-report
complete -F _poolprobe poolprobe
