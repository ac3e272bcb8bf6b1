# SIGTERM helpers of the tests that stop a run mid-way (sourced by
# tests/mpi_lib.sh and tests/cli_explain_resume.sh; not a test itself):
# cpu_seconds PID (user + system so far), catches_term PID (its SIGTERM
# handler is installed), term_when SECONDS WATCH PID... (SIGTERM once WATCH
# has used SECONDS of CPU).
cpu_seconds() { # PID: its user + system seconds so far (fields 14, 15 of /proc/PID/stat)
    awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz}' \
        "/proc/$1/stat" 2>/dev/null || echo -1
}
catches_term() { # PID: whether SIGTERM (bit 14 of SigCgt) is caught
    local m
    m=$(awk '/^SigCgt:/ {print $2}' "/proc/$1/status" 2>/dev/null)
    [ -n "$m" ] && (((0x$m >> 14) & 1))
}
term_when() { # SECONDS WATCH PID...: once every PID catches SIGTERM and WATCH has used
    local i p ready  # SECONDS of CPU, SIGTERM to every PID (at most 60 s of waiting)
    for ((i = 0; i < 6000; i++)); do
        ready=1
        for p in "${@:3}"; do catches_term "$p" || ready=0; done
        [ "$ready" = 1 ] && awk -v c="$(cpu_seconds "$2")" -v s="$1" 'BEGIN {exit !(c >= s)}' &&
            break
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.01
    done
    kill -TERM "${@:3}"
}
