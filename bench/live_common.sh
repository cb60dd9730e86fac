# Shared by bench/live.sh and bench/live_http.sh (sourced, not run): messages, cleanup of the namespaces and
# background jobs a run made, bounded jobs, readiness waits, medians and ratios. The sourcing script sets
# SCRIPT (its name, for messages) first; before `install_cleanup`, also KEEP_LOGS, WORK, OUR_NS and BG.

die() {
    echo "$SCRIPT: error: $*" >&2
    exit 1
}
say() { echo "$SCRIPT: $*" >&2; }

# Kills our background jobs, deletes our namespaces, removes the logs (kept with --keep-logs or on failure).
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    exec 2>&3
    local pid ns
    for pid in "${BG[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${BG[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    for ns in "${OUR_NS[@]}"; do
        if [[ -e /run/netns/$ns ]]; then
            ip netns del "$ns" || echo "$SCRIPT: could not delete namespace $ns" >&2
        fi
    done
    if [[ $KEEP_LOGS -eq 1 || $rc -ne 0 ]]; then
        echo "$SCRIPT: logs kept in $WORK" >&2
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}

# Runs `cleanup` on every way out. fd 3 keeps the script's stderr: a signal can run the trap inside a call
# whose stderr goes to a log.
install_cleanup() {
    exec 3>&2
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# bounded SECS CMD...: runs CMD under `timeout`, as a tracked background job that the script waits for, so that a
# signal stops the script at once (the trap kills the job) instead of after the job ends.
bounded() {
    local secs=$1 pid rc=0
    shift
    timeout "$secs" "$@" &
    pid=$!
    BG+=("$pid")
    wait "$pid" || rc=$?
    forget "$pid"
    return "$rc"
}
forget() {
    local keep=() p
    for p in "${BG[@]}"; do
        [[ $p == "$1" ]] || keep+=("$p")
    done
    BG=("${keep[@]}")
}

# wait_until PID WHAT CHECK...: waits (at most 10 s) until CHECK succeeds while background PID lives.
wait_until() {
    local pid=$1 what=$2
    shift 2
    local i
    for ((i = 0; i < 100; i++)); do
        "$@" && return 0
        kill -0 "$pid" 2>/dev/null || die "$what exited before it was ready"
        sleep 0.1
    done
    die "$what not ready after 10 s"
}
listening() { [[ -n $(ip netns exec "$1" ss -Hltn "sport = :$2") ]]; }
log_has() { grep -q -- "$2" "$1" 2>/dev/null; }

# median [-i|-f FORMAT] VALUES...: -i rounds to an integer, -f prints with a printf FORMAT (default %.3f).
median() {
    local fmt=%.3f
    case "$1" in
        -i) fmt=%.0f; shift ;;
        -f) fmt=$2; shift 2 ;;
    esac
    printf '%s\n' "$@" | sort -g |
        awk -v f="$fmt" '{ a[NR] = $1 } END { printf f "\n", NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
