#!/usr/bin/env bash
# Progress goes to stderr only when it is a terminal, and --quiet silences it.
# `script` (util-linux, essential on Debian) runs the command on a pseudo-terminal.
set -u
bin=${SS_BIN:?}; shared=${SS_SHARED:?}; tmp=${SS_TMP:-/tmp}/cli_progress
mkdir -p "$tmp"
passed=0; failed=0
check() { if eval "$2"; then echo "ok   $1"; passed=$((passed+1)); else echo "FAIL $1"; failed=$((failed+1)); fi; }
model=$shared/models/stories260K/stories260K.bin
ids=$(head -n 1 "$shared/models/stories260K/tokens.txt")

script -qec "'$bin' logits '$model' --ids '$ids' --out '$tmp/a.npy'" /dev/null >"$tmp/tty.txt" 2>&1
check "progress on a terminal" "grep -q 'logits: 5/5 layers' '$tmp/tty.txt'"
script -qec "'$bin' logits '$model' --ids '$ids' --out '$tmp/b.npy' --quiet" /dev/null >"$tmp/quiet.txt" 2>&1
check "--quiet silences it" "! grep -q 'layers' '$tmp/quiet.txt'"
"$bin" logits "$model" --ids "$ids" --out "$tmp/c.npy" 2>"$tmp/pipe.txt"
check "nothing when stderr is not a terminal" "[ ! -s '$tmp/pipe.txt' ]"
check "same numbers either way" "cmp -s '$tmp/a.npy' '$tmp/c.npy'"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
