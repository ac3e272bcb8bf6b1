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
. "$(dirname "$0")/lib_expect.sh"

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

# ---- 14: NUL bytes and invalid UTF-8 in prompts are errors naming file:line
story='Once upon a time there was a little cat who liked to play in the sun all day long.'
printf '%s\n\0%s\n' "$story" "$story" >"$tmp/nul-start.txt"
expect_fail "line starting with NUL" "nul-start.txt:2: a NUL byte at byte 1" "$bin" scan "$m" --prompts "$tmp/nul-start.txt" --len 8 --out "$tmp/s"
printf '%s\n' "$story" | iconv -f UTF-8 -t UTF-16 >"$tmp/utf16.txt"
expect_fail "UTF-16 prompt file" "utf16.txt:1: .*UTF-16\? convert it with iconv" "$bin" scan "$m" --prompts "$tmp/utf16.txt" --len 8 --out "$tmp/s"
printf '1 2 3 4 5 6 7 8 9\n1 2 3\0 4 5 6 7 8 9\n' >"$tmp/nul.ids"
expect_fail "NUL inside an ids line" "nul.ids:2: a NUL byte at byte 6" "$bin" scan "$m" --ids-file "$tmp/nul.ids" --len 8 --out "$tmp/s"
printf "1 2 3\0 4 5\n" >"$tmp/nul0.ids"
expect_fail "NUL inside --ids-file of logits" "nul0.ids:1: a NUL byte at byte 6" "$bin" logits "$m" --ids-file "$tmp/nul0.ids" --out "$tmp/x.npy"
printf '{"text": "%s\\u0000%s"}\n' "$story" "$story" >"$tmp/nul.jsonl"
expect_fail "\\u0000 in JSONL" "nul.jsonl:1: the record holds .u0000" "$bin" scan "$m" --prompts "$tmp/nul.jsonl" --len 8 --out "$tmp/s"
printf '{"text": "%s\\\\u0000 is a literal backslash"}\n' "$story" >"$tmp/backslash.jsonl"
expect_ok "an escaped backslash before u0000 is text" "$bin" scan "$m" --prompts "$tmp/backslash.jsonl" --len 8 --out "$tmp/bs" --quiet
for bytes in 'caf\xe9' 'x\xc0\x80y' 'x\xed\xa0\x80y' 'x\xf4\x90\x80\x80y' 'cut \xe2\x82'; do
  printf "$story $bytes\n" >"$tmp/latin1.txt"
  expect_fail "invalid UTF-8 ($bytes)" "latin1.txt:1: invalid UTF-8 at byte" "$bin" scan "$m" --prompts "$tmp/latin1.txt" --len 8 --out "$tmp/s"
done
printf '%s \xf0\x9f\x98\x80 caf\xc3\xa9 \xe4\xb8\xad\n' "$story" >"$tmp/utf8.txt"
expect_ok "valid 2-, 3- and 4-byte UTF-8 is accepted" "$bin" scan "$m" --prompts "$tmp/utf8.txt" --len 8 --out "$tmp/u8" --quiet
mkdir -p "$tmp/dir"; printf '%s\n' "$story" >"$tmp/dir/a.txt"; printf 'x\0y %s\n' "$story" >"$tmp/dir/b.txt"
expect_fail "NUL in a folder's .txt file" "dir/b.txt:1: a NUL byte at byte 2" "$bin" scan "$m" --prompts "$tmp/dir" --len 8 --out "$tmp/s"

# ---- 15: pipes as prompt sources: read once, hashed as read ----------------
jl=$shared/prompts/stories260K-samples.jsonl
expect_ok "scan --prompts FILE" "$bin" scan "$m" --prompts "$jl" --field text --len 16 --out "$tmp/file" --quiet
expect_ok "scan --prompts <(cat FILE)" "$bin" scan "$m" --prompts <(cat "$jl") --field text --len 16 --out "$tmp/subst" --quiet
expect_ok "scan --prompts /dev/stdin" "$bin" scan "$m" --prompts /dev/stdin --field text --len 16 --out "$tmp/stdin" --quiet <"$jl"
cat "$jl" | "$bin" scan "$m" --prompts /dev/stdin --field text --len 16 --out "$tmp/pipe" --quiet 2>"$tmp/err" && ok "scan from a real pipe" || bad "scan from a real pipe"
for d in subst stdin pipe; do
  cmp -s "$tmp/file/slash_sum.npy" "$tmp/$d/slash_sum.npy" && cmp -s "$tmp/file/slash_count.npy" "$tmp/$d/slash_count.npy" \
    && ok "$d: the same sums as the file" || bad "$d: sums differ from the file's"
done
sha() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['prompts']['sha256'])" "$1"; }
want=$(sha256sum <"$jl" | cut -d' ' -f1)
[ "$(sha "$tmp/pipe/scan.json")" = "$want" ] && [ "$(sha "$tmp/subst/scan.json")" = "$want" ] \
  && ok "a pipe's recorded SHA-256 is the bytes' (sha256sum)" || bad "pipe sha256 differs from sha256sum"

# --prompts given token ids: say --ids-file
printf '1 403 407 261 378\n1 365 1622 395\n' >"$tmp/ids.txt"
expect_fail "--prompts on token ids suggests --ids-file" "look like token ids.*--ids-file" "$bin" scan "$m" --prompts "$tmp/ids.txt" --len 4 --out "$tmp/s"

# ---- flags: --tokenizer everywhere, and the error that names it ------------
expect_fail "a model without a tokenizer names --tokenizer" "without tokenizer.json.*give the tokenizer with --tokenizer FILE" "$bin" tokenize "$shared/fixtures/qwen2/hf" --text hi
expect_fail "scan says the same" "llama2.c checkpoint without a tokenizer.*--tokenizer FILE" "$bin" scan "$fx/model.bin" --prompts "$tmp/utf8.txt" --len 8 --out "$tmp/s"
got=$("$bin" tokenize "$shared/fixtures/qwen2/hf" --tokenizer "$shared/tokenizers/gpt-2/tokenizer.json" --text "Hello world" 2>"$tmp/err")
want=$(sed -n 12p "$shared/tokenizers/gpt-2/ggml-vocab-gpt-2.gguf.out" | sed 's/^ //')
[ "$got" = "$want" ] && ok "tokenize --tokenizer: '$got' is the gpt-2 vector" || bad "tokenize --tokenizer gave '$got', want '$want'"

# ---- 6: --ids-file without --len holds one sequence, or is refused ---------
ids8=$shared/prompts/stories260K-samples.ids
expect_fail "rank --ids-file of 64 lines without --len" "holds 64 sequences.*give --len N to use every line" "$bin" rank "$m" --ids-file "$ids8" --heads L0H0 --out "$tmp/r"
expect_fail "freq --ids-file of 64 lines without --len" "holds 64 sequences.*--len N" "$bin" freq "$m" --ids-file "$ids8" --heads L0H0 --out "$tmp/f"
expect_fail "logits --ids-file of 64 lines" "holds 64 sequences.*keep one line" "$bin" logits "$m" --ids-file "$ids8" --out "$tmp/x.npy"
head -n 1 "$ids8" >"$tmp/one.ids"; echo >>"$tmp/one.ids"
expect_ok "rank --ids-file of one line (and a blank one)" "$bin" rank "$m" --ids-file "$tmp/one.ids" --heads L0H0 --out "$tmp/r1" --quiet

# ---- 11: a tokenizer's own steps may not grow a text without bound ---------
/usr/bin/python3 - "$tmp" <<'PY'
import json, sys
out = sys.argv[1]
vocab = {"<unk>": 0, **{c: i + 1 for i, c in enumerate(" abcdefghijklmnopqrstuvwxyz")}}
def write(name, normalizer=None, pre=None):
    t = {"version": "1.0", "added_tokens": [], "normalizer": normalizer, "pre_tokenizer": pre,
         "model": {"type": "BPE", "vocab": vocab, "merges": [], "unk_token": "<unk>"}}
    open(f"{out}/{name}.json", "w").write(json.dumps(t))
rep = lambda s: {"type": "Replace", "pattern": {"String": " "}, "content": s}
write("inflate", {"type": "Sequence", "normalizers": [rep("    ")] * 10})  # 4x per step
write("inflate_one", rep("x" * 50000))                                     # 50000x in one step
write("inflate_pre", pre={"type": "Sequence", "pretokenizers": [
    {"type": "Metaspace", "replacement": "    ", "prepend_scheme": "never", "split": False}] * 10})
write("grow3", {"type": "Sequence", "normalizers": [rep("    ")] * 3})      # 64x: within bound
PY
expect_fail "a Sequence of Replace steps" "inflate.json: normalizer step 7 of 10 \(Replace\) on a 15-byte text: the text grew past 66496 bytes" "$bin" tokenize "$tmp/inflate.json" --text "a b c d e f g h"
expect_fail "one Replace step 50000x" "inflate_one.json: normalizer step 1 of 1 \(Replace\).*grew past" "$bin" tokenize "$tmp/inflate_one.json" --text "a b c d e f g h"
expect_fail "a Sequence of Metaspace steps" "inflate_pre.json: pre-tokenizer step 7 of 10.*grew past" "$bin" tokenize "$tmp/inflate_pre.json" --text "a b c d e f g h"
got=$("$bin" tokenize "$tmp/grow3.json" --text "a b" 2>"$tmp/err" | wc -w)
[ "$got" -eq 66 ] && ok "a bounded growth (3 steps, 64x) still tokenizes: $got ids" || bad "grow3 gave $got ids, want 66"
expect_fail "scan names the tokenizer file too" "inflate.json: normalizer step" "$bin" scan "$m" --tokenizer "$tmp/inflate.json" --prompts "$tmp/utf8.txt" --len 8 --out "$tmp/s"

# ---- 16: GGUF headers: absurd layer counts, infinite factors, raw strings --
# (the address-space limit keeps a regression from taking the machine's memory;
# AddressSanitizer needs its terabytes of address space, so it runs without)
/usr/bin/python3 - "$tmp" <<'PY'
import struct, sys
out = sys.argv[1]
def s(x): return struct.pack('<Q', len(x)) + x
def kv_str(k, v): return s(k) + struct.pack('<I', 8) + s(v)
def kv_u32(k, v): return s(k) + struct.pack('<II', 4, v)
def kv_f32(k, v): return s(k) + struct.pack('<If', 6, v)
def gguf(name, arch=b'llama', layers=1, extra=()):
    d, ff, V = 8, 16, 16
    shapes = [('token_embd.weight', (d, V)), ('output_norm.weight', (d,))]
    for l in range(1):
        for t, sh in [('attn_norm', (d,)), ('attn_q', (d, d)), ('attn_k', (d, d)), ('attn_v', (d, d)),
                      ('attn_output', (d, d)), ('ffn_norm', (d,)), ('ffn_gate', (d, ff)),
                      ('ffn_down', (ff, d)), ('ffn_up', (d, ff))]:
            shapes.append((f'blk.{l}.{t}.weight', sh))
    kvs = [kv_str(b'general.architecture', arch), kv_u32(b'llama.block_count', layers),
           kv_u32(b'llama.embedding_length', d), kv_u32(b'llama.feed_forward_length', ff),
           kv_u32(b'llama.attention.head_count', 2), kv_u32(b'llama.context_length', 32)] + list(extra)
    g = b'GGUF' + struct.pack('<IQQ', 3, len(shapes), len(kvs)) + b''.join(kvs)
    off, data = 0, b''
    for n, sh in shapes:
        g += s(n.encode()) + struct.pack('<I', len(sh)) + b''.join(struct.pack('<Q', x) for x in sh)
        g += struct.pack('<IQ', 0, off)
        k = 1
        for x in sh: k *= x
        blob = struct.pack('<%df' % k, *([0.125] * k))
        blob += b'\0' * (-len(blob) % 32)
        data += blob; off += len(blob)
    g += b'\0' * (-len(g) % 32) + data
    open(f'{out}/{name}.gguf', 'wb').write(g)
gguf('ok')
gguf('layers', layers=1 << 30)
gguf('inf', extra=[kv_str(b'llama.rope.scaling.type', b'linear'), kv_f32(b'llama.rope.scaling.factor', float('inf'))])
gguf('nanbase', extra=[kv_f32(b'llama.rope.freq_base', float('nan'))])
gguf('ansi', arch=b'll\x1b[31mama\nEVIL\r')
PY
expect_ok "the generated GGUF itself loads" "$bin" info "$tmp/ok.gguf"
( [ -n "${ASAN_OPTIONS:-}" ] || ulimit -v 4000000; "$bin" info "$tmp/layers.gguf" ) >"$tmp/out" 2>"$tmp/err"
rc=$?; [ $rc -eq 1 ] && grep -q "header says 1073741824 layers but the file holds only 11 tensors" "$tmp/err" \
  && ok "block_count 2^30 is refused before a 100 GB layer table: $(cat "$tmp/err")" || bad "block_count 2^30: exit $rc"
expect_fail "linear rope factor +inf" "rope.scaling.factor' = inf, expected a finite number" "$bin" info "$tmp/inf.gguf"
expect_fail "rope base NaN" "rope.freq_base' = nan, expected a finite number" "$bin" info "$tmp/nanbase.gguf"
expect_fail "general.architecture is escaped" "general.architecture 'll.x1B\[31mama.x0AEVIL.x0D' is not supported" "$bin" info "$tmp/ansi.gguf"
if grep -q $'\x1b' "$tmp/err"; then bad "an ESC byte reached stderr"; else ok "no raw control byte on stderr"; fi

# ---- 16: stale temporary files, --out checked first, too-deep JSON ---------
# a run works in DIR.partial under DIR.lock (docs/results.md): no other writer can be
# there, so every temporary file a killed run left in it goes, whatever its pid
mkdir -p "$tmp/stale.partial/checkpoint"
: >"$tmp/stale.partial/slash_sum.npy.tmp.2147483646"          # no such process
: >"$tmp/stale.partial/checkpoint/state.json.tmp.2147483646"
: >"$tmp/stale.partial/scan.json.tmp.1"                        # even a live pid's: the lock is ours
expect_ok "scan --resume over a killed run's leftovers" "$bin" scan "$m" --ood 2 --len 16 --out "$tmp/stale" --resume --quiet
[ ! -e "$tmp/stale.partial" ] && [ -f "$tmp/stale/scan.json" ] \
  && ok "the leftovers' folder became the result" || bad "stale.partial survived the resume"
[ -z "$(find "$tmp/stale" -name '*.tmp.*')" ] && ok "no temporary file left after success" || bad "tmp files left"
expect_fail "--out not writable is noticed before the run" "--out /proc/slashscope-test: cannot write in /proc.*checked before the run" "$bin" scan "$m" --ood 1 --len 8 --out /proc/slashscope-test
expect_fail "rank --out not writable" "cannot write in /proc" "$bin" rank "$m" --ood 1 --len 8 --heads L0H0 --out /proc/x/y
expect_fail "--out under a regular file" "nul-start.txt is a regular file, not a folder" "$bin" scan "$m" --ood 1 --len 8 --out "$tmp/nul-start.txt/p.txt/x"
if [ "$(id -u)" -ne 0 ]; then
  mkdir -p "$tmp/ro"; chmod 555 "$tmp/ro"
  expect_fail "--out in a read-only folder" "cannot write in .*ro: Permission denied" "$bin" scan "$m" --ood 1 --len 8 --out "$tmp/ro/s"
  chmod 755 "$tmp/ro"
fi
/usr/bin/python3 -c "
import sys; d = sys.argv[1]
open(d + '/deep.json', 'w').write('{\"a\":' * 1100 + '1' + '}' * 1100)
open(d + '/deep.jsonl', 'w').write('{\"text\":' + '[' * 1100 + '1' + ']' * 1100 + '}\n')" "$tmp"
mkdir -p "$tmp/deephf"; cp "$tmp/deep.json" "$tmp/deephf/config.json"
expect_fail "too-deep config.json says so" "config.json: JSON nested more than 1000 levels deep" "$bin" info "$tmp/deephf"
expect_fail "too-deep tokenizer.json says so" "deep.json: JSON nested more than 1000 levels deep" "$bin" tokenize "$m" --tokenizer "$tmp/deep.json" --text hi
expect_fail "too-deep JSONL record says so" "deep.jsonl:1: JSON nested more than 1000 levels deep" "$bin" scan "$m" --prompts "$tmp/deep.jsonl" --len 8 --out "$tmp/s"

# ---- 11: --len against memory: refused with the estimate, before the run ----
# (a limit on the address space stands in for a small machine; AddressSanitizer
# reserves terabytes of address space, so the sanitizer run skips this)
if [ -z "${ASAN_OPTIONS:-}" ]; then
  for cmd in "scan $m --ood 1" "rank $m --ood 1 --heads L0H0"; do
    # shellcheck disable=SC2086
    ( ulimit -v 1500000; "$bin" $cmd --len 2000000 --allow-long --out "$tmp/big" ) >"$tmp/out" 2>"$tmp/err"
    rc=$?
    [ $rc -eq 1 ] && grep -q -- "--len 2000000: the forward pass over that many tokens needs about 3.58 GiB, more than the 1.4. GiB this machine has available" "$tmp/err" \
      && ok "${cmd%% *} --len 2000000 in 1.5 GB: $(cat "$tmp/err")" || bad "${cmd%% *} --len 2000000: exit $rc"
  done
  [ ! -e "$tmp/big" ] && ok "nothing written" || bad "a refused run wrote $tmp/big"
fi

# ---- 15: the other inputs a user may pipe in (--file, --ids-file) -----------
got=$(printf 'Once upon a time' | "$bin" tokenize "$m" --file /dev/stdin --no-bos 2>"$tmp/err")
want=$("$bin" tokenize "$m" --text 'Once upon a time' --no-bos)
[ -n "$got" ] && [ "$got" = "$want" ] && ok "tokenize --file /dev/stdin: $got" || bad "tokenize --file /dev/stdin gave '$got'"
got=$(printf '%s\n' "$want" | "$bin" detokenize "$m" --ids-file /dev/stdin 2>"$tmp/err")
[ "$got" = "Once upon a time" ] && ok "detokenize --ids-file /dev/stdin" || bad "detokenize --ids-file /dev/stdin gave '$got'"
"$bin" logits "$m" --ids-file <(echo "1 403 407") --out "$tmp/pipe.npy" 2>"$tmp/err" && "$bin" logits "$m" --ids "1 403 407" --out "$tmp/file.npy" \
  && cmp -s "$tmp/pipe.npy" "$tmp/file.npy" && ok "logits --ids-file <(...) gives the same bytes" || bad "logits from a pipe"
expect_fail "tokenize --file on a folder" "is a folder, expected a file" "$bin" tokenize "$m" --file "$tmp"

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
