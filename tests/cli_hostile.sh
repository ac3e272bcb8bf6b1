#!/usr/bin/env bash
# Hostile and odd inputs (issue 9, items 11-17 and 6): files that are not
# regular files, integers that overflow, NUL bytes and UTF-16 in prompts,
# pipes as prompt sources, tokenizers that inflate text, headers that ask
# for absurd sizes. Each case must end in a clear one-line error (exit 1 or
# 2) or, where a choice is documented (docs/inputs.md), in that behaviour;
# never a crash, a hang or a silent cut.
set -u
bin=${SS_BIN:?}; shared=${SS_SHARED:?}; tmp=${SS_TMP:-/tmp}/cli_hostile
rm -rf "$tmp"; mkdir -p "$tmp"
passed=0; failed=0
ok() { echo "ok   $1"; passed=$((passed+1)); }
bad() { echo "FAIL $1"; [ -s "$tmp/err" ] && cat "$tmp/err"; failed=$((failed+1)); }

# expect_fail NAME PATTERN CMD...: exit 1 or 2 within 20 s, one stderr line matching PATTERN
expect_fail() {
  local name=$1 pattern=$2; shift 2
  timeout 20 "$@" >"$tmp/out" 2>"$tmp/err" </dev/null; local rc=$?
  if [ $rc -ne 1 ] && [ $rc -ne 2 ]; then bad "$name: exit $rc (want 1 or 2)"; return; fi
  if ! grep -Eq -- "$pattern" "$tmp/err"; then bad "$name: message does not match /$pattern/"; return; fi
  if [ "$(wc -l <"$tmp/err")" -ne 1 ]; then bad "$name: want one line on stderr"; return; fi
  ok "$name: $(cat "$tmp/err")"
}
expect_ok() {
  local name=$1; shift
  if timeout 60 "$@" >"$tmp/out" 2>"$tmp/err"; then ok "$name"; else bad "$name: exit $?"; fi
}
# patch FILE OFFSET HEXBYTES: overwrite bytes in place
patch() { perl -e 'open(F,"+<",$ARGV[0]) or die; binmode F; seek(F,$ARGV[1],0); print F pack("H*",$ARGV[2]); close F' "$@"; }

m=$shared/models/stories260K/stories260K.bin
fx=$shared/fixtures/mistral_mha

# ---- 12: only regular files are model parts --------------------------------
cp -r "$shared/fixtures/qwen2/hf" "$tmp/fifo"; chmod -R u+w "$tmp/fifo"
rm "$tmp/fifo/model-00002-of-00002.safetensors"; mkfifo "$tmp/fifo/model-00002-of-00002.safetensors"
expect_fail "FIFO shard does not hang info" "model-00002-of-00002.safetensors: is a FIFO \(named pipe\), expected a regular file" "$bin" info "$tmp/fifo"
expect_fail "info /dev/zero names a device" "/dev/zero: a character device" "$bin" info /dev/zero
expect_fail "info on a missing path" "no-such: no such file or folder" "$bin" info "$tmp/no-such"
expect_fail "tokenizer from a FIFO" "is a FIFO" "$bin" tokenize "$m" --tokenizer "$tmp/fifo/model-00002-of-00002.safetensors" --text hi

# ---- 13: integers are parsed with overflow checks ---------------------------
expect_fail "--maps L4294967296H0 is not L0H0" "head list 'L4294967296H0'" "$bin" scan "$m" --ood 1 --len 8 --maps L4294967296H0 --out "$tmp/s"
expect_fail "--heads with a huge head" "head list 'L0H4294967296'" "$bin" rank "$m" --ood 1 --len 8 --heads L0H4294967296 --out "$tmp/r"
expect_fail "--ood 2^64+" "--ood wants a whole number" "$bin" scan "$m" --ood 99999999999999999999 --len 8 --out "$tmp/s"
expect_fail "--len with trailing junk" "--len wants a whole number" "$bin" scan "$m" --ood 1 --len 8x --out "$tmp/s"
expect_fail "--threads 2^32+1" "--threads wants a whole number" "$bin" info "$m" --threads 4294967297
expect_fail "--deltas 2^32+1 (was sscanf %d)" "--deltas '4294967297'" "$bin" freq "$m" --ood 1 --len 8 --heads L0H0 --deltas 4294967297 --out "$tmp/f"
expect_fail "--ids with a 2^64 id" "--ids: token 2 is not a non-negative integer id" "$bin" logits "$m" --ids "1 99999999999999999999" --out "$tmp/x.npy"
[ ! -e "$tmp/s" ] && [ ! -e "$tmp/r" ] && ok "refused runs leave no folder" || bad "a refused run left output"
