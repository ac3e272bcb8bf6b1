#!/usr/bin/env bash
# BLAS kernel selection (engine/blas.h) through the CLI. OPENBLAS_CORETYPE=
# Prescott simulates an OpenBLAS that fell back to its generic kernels: the
# CLI must re-select the best core the CPU offers (expected here from
# /proc/cpuinfo, independently of the code's cpuid), keep OpenBLAS's choice
# when the self-check fails or the user says so, record it all in info and
# scan.json, and compute the same numbers either way.
set -u
bin=${SS_BIN:?}; shared=${SS_SHARED:?}; tmp=${SS_TMP:-/tmp}/cli_blas
rm -rf "$tmp"; mkdir -p "$tmp"
py=/usr/bin/python3
passed=0; failed=0
ok() { echo "ok   $1"; passed=$((passed+1)); }
fail() { echo "FAIL $1"; failed=$((failed+1)); }
fx=$shared/fixtures/mistral_mha/hf

# field of info --json's "blas" object, for the given environment
blas_field() { # field env...
  local f=$1; shift
  env "$@" "$bin" info "$fx" --json 2>"$tmp/err" |
    $py -c "import json,sys; print(json.load(sys.stdin)['blas']['$f'])"
}

flags=$(grep -m1 '^flags' /proc/cpuinfo)
has() { [[ " $flags " == *" $1 "* ]]; }
vendor=$(grep -m1 '^vendor_id' /proc/cpuinfo | awk '{print $3}')
want=Prescott
if has avx512f && has avx512cd && has avx512bw && has avx512dq && has avx512vl; then want=SkylakeX
elif has avx2 && has fma; then [ "$vendor" = AuthenticAMD ] && want=Zen || want=Haswell
elif has avx; then want=Sandybridge; fi

case $(uname -m) in x86_64) ;; *) echo "skipped: not x86-64"; exit 0;; esac

core=$(blas_field core OPENBLAS_CORETYPE=Prescott)
sel=$(blas_field selection OPENBLAS_CORETYPE=Prescott)
if [ "$core" = "$want" ]; then ok "Prescott fallback re-selected: $core ($sel)"
else fail "Prescott fallback: core $core, want $want ($sel)"; fi
if [ "$want" != Prescott ]; then
  [[ $sel == selected* ]] && ok "selection recorded" || fail "selection text: $sel"
fi

core=$(blas_field core OPENBLAS_CORETYPE=Prescott SLASHSCOPE_BLAS_SELFCHECK_FAIL=1)
sel=$(blas_field selection OPENBLAS_CORETYPE=Prescott SLASHSCOPE_BLAS_SELFCHECK_FAIL=1)
if [ "$core" = Prescott ] && [[ $sel == *"rejected"*"self-check"* ]] &&
   { [ "$want" = Prescott ] || grep -q "note: BLAS core $want not used" "$tmp/err"; }; then
  ok "failed self-check keeps OpenBLAS's choice and says why: $sel"
else fail "failed self-check: core $core, selection '$sel', stderr: $(cat "$tmp/err")"; fi

core=$(blas_field core OPENBLAS_CORETYPE=Prescott SLASHSCOPE_BLAS_CORE=openblas)
[ "$core" = Prescott ] && ok "SLASHSCOPE_BLAS_CORE=openblas keeps OpenBLAS's choice" ||
  fail "SLASHSCOPE_BLAS_CORE=openblas: core $core"

core=$(blas_field core SLASHSCOPE_BLAS_CORE=Sandybridge)
[ "$core" = Sandybridge ] || { [ "$want" = Prescott ] && [ "$core" != Sandybridge ]; } &&
  ok "SLASHSCOPE_BLAS_CORE=Sandybridge forces a core: $core" || fail "forced Sandybridge: core $core"

core=$(blas_field core SLASHSCOPE_BLAS_CORE=NoSuchCore)
sel=$(blas_field selection SLASHSCOPE_BLAS_CORE=NoSuchCore)
[[ $sel == *"NoSuchCore rejected"* ]] && ok "unknown forced core refused: $sel" ||
  fail "unknown forced core: core $core, selection $sel"

# the same logits with the generic and the selected kernels
ids="1 5 9 13 17 21 25 29"
env OPENBLAS_CORETYPE=Prescott SLASHSCOPE_BLAS_CORE=openblas "$bin" logits "$fx" --ids "$ids" \
  --out "$tmp/generic.npy" 2>/dev/null &&
env OPENBLAS_CORETYPE=Prescott "$bin" logits "$fx" --ids "$ids" --out "$tmp/selected.npy" 2>/dev/null
if $py -c "
import numpy as np, sys
a = np.load('$tmp/generic.npy'); b = np.load('$tmp/selected.npy')
d = float(np.max(np.abs(a - b)) / (np.max(np.abs(a)) + 1e-30))
print(d); sys.exit(0 if a.shape == b.shape and d < 1e-5 else 1)" >"$tmp/diff"; then
  ok "logits with generic and selected kernels agree (rel. diff $(cat "$tmp/diff"))"
else fail "logits differ between kernels: $(cat "$tmp/diff")"; fi

# scan.json records the BLAS of the run, with the thread count asked for
rm -rf "$tmp/scan"
"$bin" scan "$fx" --ood 1 --len 16 --seed 1 --out "$tmp/scan" --quiet --threads 1 >/dev/null 2>&1
if $py -c "
import json, sys
b = json.load(open('$tmp/scan/scan.json'))['blas']
sys.exit(0 if b['library'] == 'OpenBLAS' and b['version'] and b['core'] and b['threads'] == 1 else 1)"; then
  ok "scan.json records library, version, core, threads"
else fail "scan.json blas: $(cat "$tmp/scan/scan.json" | grep -A8 blas)"; fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
