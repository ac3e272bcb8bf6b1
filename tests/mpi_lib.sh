# The preamble of the MPI tests (sourced: `. "$HERE/mpi_lib.sh" NAME` from
# tests/cli_mpi.sh and tests/cli_study_mpi.sh; not a test itself). Skips
# (exit 77) when the build has no MPI or mpirun is absent; sets BIN, SHARED,
# PY and T (a fresh scratch folder, removed on exit when nothing failed),
# the fails counter with ok/fail, the Open MPI environment for localhost,
# and helpers: mpi NP CMD... (mpirun --oversubscribe), same WHAT REF OTHER
# (tests/mpi_compare.py), and from tests/term_lib.sh cpu_seconds,
# catches_term and term_when.
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
. "$MPI_LIB_DIR/term_lib.sh"
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
