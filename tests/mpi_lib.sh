# The preamble of the MPI tests (sourced: `. "$HERE/mpi_lib.sh" NAME` from
# tests/cli_mpi.sh and tests/cli_study_mpi.sh; not a test itself). Skips
# (exit 77) when the build has no MPI or mpirun is absent; sets BIN, SHARED,
# PY and T (a fresh scratch folder, removed on exit when nothing failed),
# the fails counter with ok/fail, the Open MPI environment for localhost,
# and helpers: mpi NP CMD... (mpirun --oversubscribe), same WHAT REF OTHER
# (tests/mpi_compare.py), cpu_seconds PID (user + system so far),
# catches_term PID (its SIGTERM handler is installed).
set -u
BIN=${SS_BIN:?} SHARED=${SS_SHARED:?}
MPI_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [ "${SS_MPI:-OFF}" != "ON" ] && [ "${SS_MPI:-OFF}" != "1" ]; then
    echo "SKIP: slashscope was built without MPI (SS_MPI=OFF: libopenmpi-dev not found)"
    exit 77
fi
if ! command -v mpirun >/dev/null; then
    echo "SKIP: mpirun not found (Debian: openmpi-bin)"
    exit 77
fi
T=${SS_TMP:-/tmp}/${1:?mpi_lib.sh: give the test name}.$$
rm -rf "$T" && mkdir -p "$T"
fails=0
trap '[ "$fails" -eq 0 ] && rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
PY=/usr/bin/python3
# Open MPI refuses root without these; --oversubscribe lets 3 ranks share 2 cores
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader OMPI_MCA_rmaps_base_oversubscribe=1
# under the sanitizers: Open MPI's own allocations live until exit
[ "${SS_SANITIZE:-OFF}" = "ON" ] && export ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0
mpi() { mpirun --oversubscribe -np "$@"; }
same() { # WHAT REF OTHER
    if out=$("$PY" "$MPI_LIB_DIR/mpi_compare.py" "$2" "$3"); then ok "$1 ($(tail -1 <<<"$out"))"
    else fail "$1: $out"; fi
}
cpu_seconds() { # PID: its user + system seconds so far (fields 14, 15 of /proc/PID/stat)
    awk -v hz="$(getconf CLK_TCK)" '{sub(/^.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz}' \
        "/proc/$1/stat" 2>/dev/null || echo -1
}
catches_term() { # PID: whether SIGTERM (bit 14 of SigCgt) is caught
    local m
    m=$(awk '/^SigCgt:/ {print $2}' "/proc/$1/status" 2>/dev/null)
    [ -n "$m" ] && (((0x$m >> 14) & 1))
}
wait_gone() { # PID...: until none runs (at most 20 s; a zombie has ended): a rank may
    local i p alive # outlive mpirun for a moment, and rank 0 holds OUT.lock until it ends
    for ((i = 0; i < 2000; i++)); do
        alive=0
        for p in "$@"; do
            [ -e "/proc/$p" ] && [ "$(awk '{print $3}' "/proc/$p/stat" 2>/dev/null)" != Z ] &&
                alive=1
        done
        [ "$alive" -eq 0 ] && return 0
        sleep 0.01
    done
    return 1
}
rank_pids() { # MPIRUN_PID NP: its ranks' pids, rank 0 first (waits up to 20 s for all NP)
    local np=$2 i p r out
    for ((i = 0; i < 2000; i++)); do
        out=()
        for p in $(pgrep -P "$1"); do
            r=$(tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | sed -n 's/^OMPI_COMM_WORLD_RANK=//p')
            [ -n "$r" ] && out[$r]=$p
        done
        [ "${#out[@]}" -ge "$np" ] && { echo "${out[@]}"; return 0; }
        sleep 0.01
    done
    return 1
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
