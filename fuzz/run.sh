#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz/fuzz_*.c) with clang into build-fuzz and
# runs each for FUZZ_SECONDS seconds (default 10), seeded from the shared
# test data (found through symlinks; small files whole, large binary ones
# cut to their first few KB, which still hold the whole header),
# fuzz/seeds/<target>/ when it exists, and small VALID files generated here
# so that the accept path is reachable from the start: a tiny safetensors,
# GGUF and llama2.c file, and tokenizer.json files from
# fuzz/make_tokenizer_seeds.py (a tokenizer.json cut to a few KB is invalid
# JSON). Prints each target's coverage at the start and at the end.
# Exits non-zero if any target crashes (ASan/UBSan report, leak, timeout,
# out-of-memory); the input that did it is left in build-fuzz/crashes/.
#
# Env: FUZZ_SECONDS (10), FUZZ_SEED (1: CI runs are reproducible; 0 = random),
#      SS_SHARED (../shared), FUZZ_BUILD (build-fuzz),
#      FUZZ_JOBS (2, build parallelism), FUZZ_CFLAGS (extra compiler flags).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SS_SHARED:-$ROOT/../shared}
BUILD=${FUZZ_BUILD:-$ROOT/build-fuzz}
SECS=${FUZZ_SECONDS:-10}

command -v clang >/dev/null || { echo "fuzz/run.sh: clang not found" >&2; exit 2; }
[ -d "$SHARED" ] || { echo "fuzz/run.sh: shared data folder $SHARED not found" >&2; exit 2; }

# UBSan must abort (not just print) for libFuzzer to count it as a crash;
# the sanitizer runtimes must be linked as well as compiled in.
CC=clang cmake -S "$ROOT" -B "$BUILD" -DSS_FUZZ=ON -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_FLAGS="-fno-sanitize-recover=undefined ${FUZZ_CFLAGS:-}" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
targets=$(cd "$ROOT/fuzz" && ls fuzz_*.c | sed 's/\.c$//')
# shellcheck disable=SC2086
cmake --build "$BUILD" -j"${FUZZ_JOBS:-2}" --target $targets

# ---- seed corpora ---------------------------------------------------------
# By target name: shared files of the format it parses (small files whole,
# large ones cut to their first 8 KB), plus fuzz/seeds/<target>/ if present.
# find -L: ../shared (or SS_SHARED) may be a symlink, and so may its folders.
SEEDS="$BUILD/seeds"
rm -rf "$SEEDS"
mkdir -p "$BUILD/crashes"
for t in $targets; do mkdir -p "$SEEDS/$t"; done

add_seed() { # target file
    local dst="$SEEDS/$1/$(echo "$2" | sed "s|$SHARED/||; s|/|_|g")"
    if [ "$(stat -c %s "$2")" -le 65536 ]; then cp "$2" "$dst"; else head -c 8192 "$2" > "$dst"; fi
}
seed_files() { # target -> shared files to seed it with
    case "$1" in
    *gguf*) find -L "$SHARED" -name '*.gguf' ;;
    *safetensors*) find -L "$SHARED" -name '*.safetensors' ;;
    *llama2c*) find -L "$SHARED/models" "$SHARED/fixtures" -name '*.bin' ! -name 'tok*' ;;
    *tokenizer_bin*) find -L "$SHARED" -name 'tok*.bin' ;;
    *tokenizer_json*) ;; # fuzz/make_tokenizer_seeds.py below: small valid files
    *json*) find -L "$SHARED" -name 'config.json' -o -name '*.index.json' ;;
    esac
}
for t in $targets; do
    while IFS= read -r f; do add_seed "$t" "$f"; done < <(seed_files "$t")
    if [ -d "$ROOT/fuzz/seeds/$t" ]; then cp "$ROOT/fuzz/seeds/$t"/* "$SEEDS/$t"/ 2>/dev/null || true; fi
done

# Tiny valid files of the io formats (python3 standard library only).
python3 - "$SEEDS" <<'EOF'
import struct, sys, json, os
out = sys.argv[1]
for d in ('fuzz_llama2c', 'fuzz_safetensors', 'fuzz_gguf'):
    os.makedirs(os.path.join(out, d), exist_ok=True)
f32 = lambda n, v=0.25: struct.pack('<%df' % n, *([v] * n))

# llama2.c: dim 4, hidden 2, 1 layer, 2 heads, 1 kv head, vocab 3, seq 2
dim, hid, L, H, KV, V, S = 4, 2, 1, 2, 1, 3, 2
hd = dim // H; kvd = KV * hd
mats = [dim * dim, dim * kvd, dim * kvd, dim * dim, hid * dim, hid * dim, hid * dim]
legacy = struct.pack('<7i', dim, hid, L, H, KV, V, S)
legacy += f32(V * dim) + f32(L * dim) + b''.join(f32(L * m) for m in mats[:4]) + f32(L * dim)
legacy += b''.join(f32(L * m) for m in mats[4:]) + f32(dim) + f32(S * hd)
open(out + '/fuzz_llama2c/tiny_legacy.bin', 'wb').write(legacy)
def ak42(version, extra=b''):
    h = struct.pack('<Ii7iB', 0x616b3432, version, dim, hid, L, H, KV, V, S, 1) + extra
    return h + b'\0' * (256 - len(h))
v1 = ak42(1) + f32(2 * L * dim + dim) + f32(V * dim) + b''.join(f32(L * m) for m in mats)
open(out + '/fuzz_llama2c/tiny_v1.bin', 'wb').write(v1)
gs = 2
v2 = ak42(2, struct.pack('<i', gs)) + f32(2 * L * dim + dim)
for n in [V * dim] + [m for m in mats for _ in range(L)]:
    v2 += bytes([5] * n) + f32(n // gs, 0.01)
open(out + '/fuzz_llama2c/tiny_v2.bin', 'wb').write(v2)

# safetensors: an F32 and a BF16 tensor
hdr = json.dumps({"__metadata__": {"format": "pt"},
                  "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                  "b": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [8, 16]}}).encode()
open(out + '/fuzz_safetensors/tiny.safetensors', 'wb').write(
    struct.pack('<Q', len(hdr)) + hdr + f32(2) + b'\x80\x3f' * 4)

# GGUF v3: one string kv, one u32 array, an F32 [2, 4] and a Q8_0 [32] tensor
def s(x): return struct.pack('<Q', len(x)) + x
g = b'GGUF' + struct.pack('<IQQ', 3, 2, 2)
g += s(b'general.architecture') + struct.pack('<I', 8) + s(b'llama')
g += s(b'k.arr') + struct.pack('<IIQ3I', 9, 4, 3, 1, 2, 3)
g += s(b'a') + struct.pack('<I2QIQ', 2, 4, 2, 0, 0)
g += s(b'q') + struct.pack('<IQIQ', 1, 32, 8, 32)
g += b'\0' * (-len(g) % 32) + f32(8) + struct.pack('<e', 0.5) + bytes(range(32))
open(out + '/fuzz_gguf/tiny.gguf', 'wb').write(g)
EOF

/usr/bin/python3 "$ROOT/fuzz/make_tokenizer_seeds.py" "$SEEDS/fuzz_tokenizer_json" "$SHARED"
for t in $targets; do
    [ -n "$(ls -A "$SEEDS/$t")" ] || { echo "fuzz/run.sh: no seeds for $t (is $SHARED complete?)" >&2; exit 2; }
done

# ---- run --------------------------------------------------------------------
fail=0
for t in $targets; do
    corpus="$BUILD/corpus/$t"
    mkdir -p "$corpus"
    log="$BUILD/$t.log"
    echo "== $t: ${SECS}s"
    if ! "$BUILD/$t" -max_total_time="$SECS" -seed="${FUZZ_SEED:-1}" -max_len=16384 -timeout=10 -rss_limit_mb=2048 \
            -artifact_prefix="$BUILD/crashes/$t-" -print_final_stats=1 \
            "$corpus" "$SEEDS/$t" >"$log" 2>&1; then
        echo "fuzz/run.sh: $t FAILED (log: $log)" >&2
        tail -n 40 "$log" >&2
        fail=1
    else
        # coverage with the seeds alone and at the end: a target whose seeds
        # are all rejected stays near its start value
        cov0=$(grep -m1 -o 'INITED cov: [0-9]*' "$log" | grep -o '[0-9]*$' || echo 0)
        cov1=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*$' || echo 0)
        runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$')
        echo "coverage $cov0 -> $cov1 edges, $runs runs"
    fi
done
exit $fail
