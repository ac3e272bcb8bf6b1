#!/usr/bin/env bash
# slashscope detokenize: the text of llama.cpp's vector ids (from Hugging
# Face, not from us) is the .inp string, tokenize + detokenize --raw gives
# back the exact bytes of a file for every tokenizer format, --pieces lists
# one token per line, terminal output escapes control bytes; bad ids fail.
set -u
bin=${SS_BIN:?}; shared=${SS_SHARED:?}; tmp=${SS_TMP:-/tmp}/cli_detokenize
rm -rf "$tmp"; mkdir -p "$tmp"
passed=0; failed=0
. "$(dirname "$0")/lib_expect.sh"
spm=$shared/tokenizers/llama-spm; gpt2=$shared/tokenizers/gpt-2
m=$shared/models/stories260K/stories260K.bin

# vector 12 is "Hello world" (line 12 of .out); its ids come from HF AutoTokenizer
# (every format and all 46 vectors: test_tokenizer_decode; the CLI keeps to a few,
# each call loads a megabyte of tokenizer)
for tok in "$spm/ggml-vocab-llama-spm.gguf" "$gpt2/tokenizer.json"; do
  case $tok in *llama-spm*) out=$spm/ggml-vocab-llama-spm.gguf.out ;; *) out=$gpt2/ggml-vocab-gpt-2.gguf.out ;; esac
  got=$("$bin" detokenize "$m" --tokenizer "$tok" --ids "$(sed -n 12p "$out")" 2>"$tmp/err")
  [ "$got" = "Hello world" ] && ok "$(basename "$tok"): reference ids of 'Hello world'" || bad "$tok: got '$got'"
done

# exact bytes back, for each format (a story with a newline, a tab, UTF-8 and an emoji)
printf 'Once upon a time,\tthere was a little cat.\nShe said: "caf\xc3\xa9 \xe4\xb8\xad \xf0\x9f\x98\x80!"\n' >"$tmp/text.txt"
for tok in "$spm/tokenizer.json" "$gpt2/ggml-vocab-gpt-2.gguf" "$shared/models/stories260K/tok512.bin" \
           "$shared/models/stories260K/stories260K.gguf"; do
  ids=$("$bin" tokenize "$m" --tokenizer "$tok" --file "$tmp/text.txt" --no-bos 2>"$tmp/err")
  "$bin" detokenize "$m" --tokenizer "$tok" --ids "$ids" --raw >"$tmp/back.txt" 2>"$tmp/err"
  cmp -s "$tmp/text.txt" "$tmp/back.txt" && ok "round trip through $(basename "$(dirname "$tok")")/$(basename "$tok")" \
    || bad "round trip through $tok differs"
done
# the model's own tokenizer (llama2.c checkpoint -> tok512.bin beside it)
"$bin" tokenize "$m" --text "Once upon a time" --no-bos >"$tmp/ids" 2>"$tmp/err"
got=$("$bin" detokenize "$m" --ids-file "$tmp/ids" 2>"$tmp/err")
[ "$got" = "Once upon a time" ] && ok "the model's own tokenizer, --ids-file" || bad "got '$got'"

# --pieces: position, id, text; control bytes escaped
got=$("$bin" detokenize "$gpt2/tokenizer.json" --ids "15496 198 995" --pieces 2>"$tmp/err")
want=$(printf '0\t15496\tHello\n1\t198\t\\x0A\n2\t995\t world')
[ "$got" = "$want" ] && ok "--pieces lists the tokens, a newline shown as \\x0A" || bad "--pieces gave '$got'"
printf 'x\x1b[31my' >"$tmp/esc.txt"
ids=$("$bin" tokenize "$gpt2/tokenizer.json" --file "$tmp/esc.txt")
got=$("$bin" detokenize "$gpt2/tokenizer.json" --ids "$ids")
[ "$got" = 'x\x1B[31my' ] && ok "an ANSI escape in the text is shown escaped" || bad "escape: got '$got'"
got=$("$bin" detokenize "$gpt2/tokenizer.json" --ids "172" --raw | od -An -tx1 | tr -d ' \n')
[ "$got" = "f0" ] && ok "--raw keeps the lead byte of a cut character ($got)" || bad "--raw gave $got"
got=$("$bin" detokenize "$gpt2/tokenizer.json" --ids "172")
[ "$got" = '\xF0' ] && ok "and the terminal form shows it as \\xF0" || bad "cut character shown as '$got'"

expect_fail "id outside the vocabulary" "token id 50257 is outside the vocabulary \[0, 50257\)" "$bin" detokenize "$gpt2/tokenizer.json" --ids "15496 50257"
expect_fail "negative id" "--ids: token 1 is not a non-negative integer id" "$bin" detokenize "$gpt2/tokenizer.json" --ids "-1"
expect_fail "no ids" "--ids or --ids-file is required" "$bin" detokenize "$gpt2/tokenizer.json"
expect_fail "--pieces with --raw" "give one" "$bin" detokenize "$gpt2/tokenizer.json" --ids 1 --pieces --raw
expect_fail "a model without a tokenizer names --tokenizer" "--tokenizer FILE" "$bin" detokenize "$shared/fixtures/qwen2/hf" --ids "1 2"
printf '1 2\n3 4\n' >"$tmp/two.ids"
expect_fail "an ids file of two sequences" "two.ids holds 2 sequences" "$bin" detokenize "$m" --ids-file "$tmp/two.ids"

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
