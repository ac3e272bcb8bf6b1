#!/bin/bash
# The library as other programs get it: `cmake --install` into a temporary
# prefix puts slashscope.h, libslashscope.so/.a and slashscope.pc in place;
# examples/scan.c builds with `cc $(pkg-config --cflags --libs slashscope)`
# against the shared library and, separately, the static one, and both
# print the same scan of stories260K; the shared library exports exactly the
# functions the header marks SS_API and needs no library it does not use.
set -u
BUILD=${SS_BUILD_DIR:?} SRC=${SS_SOURCE_DIR:?} SHARED=${SS_SHARED:?}
T=${SS_TMP:-/tmp}/cli_install.$$
rm -rf "$T" && mkdir -p "$T"
fails=0
trap '[ "$fails" -eq 0 ] && rm -rf "$T"' EXIT
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }

cmake --install "$BUILD" --prefix "$T/prefix" >"$T/install.log" || { fail "cmake --install"; exit 1; }
for f in include/slashscope.h lib/libslashscope.so lib/libslashscope.a lib/pkgconfig/slashscope.pc; do
    [ -f "$T/prefix/$f" ] || fail "not installed: $f"
done
lib=$T/prefix/lib
export PKG_CONFIG_PATH=$lib/pkgconfig

# exports: nm -D of the installed library against the header's SS_API names
sed -n 's/^SS_API[^(]*[ *]\([a-z_0-9]*\)(.*/\1/p' "$SRC/include/slashscope.h" | sort >"$T/declared"
nm -D --defined-only "$lib/libslashscope.so" | awk '{print $3}' | sort >"$T/exported"
[ "$(wc -l <"$T/declared")" -ge 30 ] || fail "found only $(wc -l <"$T/declared") SS_API declarations"
diff "$T/declared" "$T/exported" >"$T/exports.diff" ||
    fail "exports differ from the header's SS_API functions: $(tr '\n' ' ' <"$T/exports.diff")"

# the fingerprint compiles xxhash.h inline: no libxxhash to link or require
grep -q xxhash "$lib/pkgconfig/slashscope.pc" && fail "slashscope.pc still requires libxxhash"
ldd "$lib/libslashscope.so" | grep -q libxxhash && fail "libslashscope.so still loads libxxhash"

# a sanitizer build's objects need the sanitizer runtime in the program too
san=""
[ "${SS_SANITIZE:-OFF}" = ON ] && san="-fsanitize=address,undefined"
cc -std=c11 -Wall -Wextra -Werror $san "$SRC/examples/scan.c" $(pkg-config --cflags --libs slashscope) \
    -o "$T/scan_shared" || fail "examples/scan.c does not build against the shared library"
cc -std=c11 -Wall -Wextra -Werror $san "$SRC/examples/scan.c" $(pkg-config --cflags slashscope) \
    "$lib/libslashscope.a" $(pkg-config --static --libs slashscope | sed 's/-lslashscope//') \
    -o "$T/scan_static" || fail "examples/scan.c does not build against the static library"
ldd "$T/scan_static" | grep -q libslashscope && fail "the static build still loads libslashscope.so"

MODEL=$SHARED/models/stories260K/stories260K.bin
LD_LIBRARY_PATH=$lib "$T/scan_shared" "$MODEL" >"$T/out_shared" || fail "scan_shared failed"
"$T/scan_static" "$MODEL" >"$T/out_static" || fail "scan_static failed"
grep -q "^8 prompts of 128 tokens: [0-9]* SDHs" "$T/out_shared" || fail "unexpected output: $(cat "$T/out_shared")"
cmp -s "$T/out_shared" "$T/out_static" || fail "the shared and static builds print different scans"

# the example's numbers are the program's: the same OOD scan through the CLI
"$SS_BIN" scan "$MODEL" --ood 8 --seed 1 --len 128 --quiet --out "$T/cli" >/dev/null || fail "CLI scan"
LD_LIBRARY_PATH=$lib "$T/scan_shared" "$MODEL" 128 "$T/api" >/dev/null || fail "example with OUT_DIR"
for a in slash_sum slash_count slash; do
    cmp -s "$T/cli/$a.npy" "$T/api/$a.npy" || fail "$a.npy of the example differs from the CLI's"
done
cmp -s "$T/cli/sdh.csv" "$T/api/sdh.csv" || fail "sdh.csv of the example differs from the CLI's"

# a bad model path: an error naming it, exit 1, no crash
LD_LIBRARY_PATH=$lib "$T/scan_shared" "$T/nope.bin" 2>"$T/err" >/dev/null
rc=$?
[ "$rc" -eq 1 ] || fail "bad model: exit $rc, want 1"
grep -q "nope.bin" "$T/err" || fail "bad model: message does not name the file: $(cat "$T/err")"

[ "$fails" -eq 0 ] && echo "cli_install: ok"
exit $((fails > 0))
