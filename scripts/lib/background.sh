# Background processes of a script (emulators, mock clusters, runs), stopped on every way out: a normal end, a
# failure (set -e), Ctrl-C and SIGTERM. Sourced by scripts/*.sh and Benchmarks/scripts/*.sh.
#
# Each process is noted in a pid file of one folder that subshells share, so a process started inside a command or
# process substitution (`x=$(…)`, `read … < <(…)`) is stopped too: a shell variable set there never reaches the
# parent, a file does. At the exit the script checks that no process it started is still alive, and fails if one is.
#
#   background_init                       once, at the top (sets the traps)
#   background_start NAME OUT ERR CMD…    starts CMD with its output in OUT and ERR; BACKGROUND_PID is its pid
#   background_wait_for NAME PATTERN FILE  prints the first match of PATTERN in FILE once it appears (30 s at most)
#   background_adopt NAME PID CMD         notes a process started otherwise (output appended to, say)
#   background_stop NAME                  SIGTERM, then SIGKILL after 10 s; a name not running is fine
#   background_on_exit CMD                 one more command for the exit (removing a work folder, say)

background_init() {
    BACKGROUND_DIR=$(mktemp -d)
    BACKGROUND_ON_EXIT=""
    trap background_exit EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

background_on_exit() {
    BACKGROUND_ON_EXIT="$BACKGROUND_ON_EXIT $*;"
}

background_start() {
    local name=$1 out=$2 err=$3
    shift 3
    background_stop "$name"
    "$@" >"$out" 2>"$err" &
    BACKGROUND_PID=$!
    echo "$BACKGROUND_PID" >"$BACKGROUND_DIR/$name.pid"
    echo "$BACKGROUND_PID $1" >>"$BACKGROUND_DIR/started"
}

background_adopt() {
    echo "$2" >"$BACKGROUND_DIR/$1.pid"
    echo "$2 $3" >>"$BACKGROUND_DIR/started"
}

background_wait_for() {
    local name=$1 pattern=$2 file=$3 found pid
    pid=$(cat "$BACKGROUND_DIR/$name.pid")
    for _ in $(seq 1 300); do
        found=$(grep -o "$pattern" "$file" 2>/dev/null | head -n 1 || true)
        [ -n "$found" ] && { echo "$found"; return 0; }
        background_alive "$pid" || { echo "$name exited before it was ready" >&2; return 1; }
        sleep 0.1
    done
    echo "$name was not ready within 30 s" >&2
    return 1
}

# Alive and not a zombie (a stopped child of the main shell that nobody waited for yet is dead for our purposes).
background_alive() {
    [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null
}

background_stop() {
    local file="$BACKGROUND_DIR/$1.pid" pid
    [ -f "$file" ] || return 0
    pid=$(cat "$file")
    rm -f "$file"
    kill "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 100); do
        background_alive "$pid" || break
        sleep 0.1
    done
    # A process between zombie and reaped can refuse the kill (ESRCH): under set -e that must not end the script.
    if background_alive "$pid"; then kill -9 "$pid" 2>/dev/null || true; fi
    wait "$pid" 2>/dev/null || true
}

background_exit() {
    local status=$? file pid command left=""
    trap - EXIT INT TERM
    for file in "$BACKGROUND_DIR"/*.pid; do
        [ -f "$file" ] && background_stop "$(basename "$file" .pid)"
    done
    # The check: nothing this script started outlives it.
    if [ -f "$BACKGROUND_DIR/started" ]; then
        while read -r pid command; do
            # (A dead process makes this test false: the loop must not end the trap with that status under set -e.)
            if background_alive "$pid"; then left="$left $pid ($command)"; fi
        done <"$BACKGROUND_DIR/started"
    fi
    rm -rf "$BACKGROUND_DIR"
    eval "$BACKGROUND_ON_EXIT"
    if [ -n "$left" ]; then
        echo "$(basename "$0"): processes still running after the end:$left" >&2
        [ "$status" -eq 0 ] && status=1
    fi
    exit "$status"
}
