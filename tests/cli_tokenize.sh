#!/usr/bin/env bash
# slashscope tokenize: ids against llama.cpp's shipped vectors (the .out
# lines, produced by Hugging Face tokenizers and llama-tokenize), default
# BOS per format, --file, and usage/model errors (non-zero exit, one line).
set -u
bin=${SS_BIN:?}; shared=${SS_SHARED:?}; tmp=${SS_TMP:-/tmp}/cli_tokenize
rm -rf "$tmp"; mkdir -p "$tmp"
passed=0; failed=0
spm=$shared/tokenizers/llama-spm; gpt2=$shared/tokenizers/gpt-2

# expect_out NAME WANT CMD...: exit 0 and stdout exactly WANT (one line)
expect_out() {
  local name=$1 want=$2; shift 2
  local got; got=$("$@" 2>"$tmp/err"); local rc=$?
  if [ $rc -eq 0 ] && [ "$got" = "$want" ]; then echo "ok   $name"; passed=$((passed+1));
  else echo "FAIL $name: exit $rc, got '$got', want '$want'"; cat "$tmp/err"; failed=$((failed+1)); fi
}
# expect_fail NAME PATTERN CMD...: exit 1 or 2, one stderr line matching PATTERN
expect_fail() {
  local name=$1 pattern=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  if { [ $rc -eq 1 ] || [ $rc -eq 2 ]; } && grep -Eq -- "$pattern" "$tmp/err" &&
     [ "$(wc -l <"$tmp/err")" -eq 1 ]; then
    echo "ok   $name: $(cat "$tmp/err")"; passed=$((passed+1))
  else echo "FAIL $name: exit $rc, stderr:"; cat "$tmp/err"; failed=$((failed+1)); fi
}
# line N of a .out file without its leading space
want_line() { sed -n "${2}p" "$1" | sed 's/^ //'; }

# vector 12 of the .inp files is "Hello world", 14 "Hello World"
hello_spm=$(want_line "$spm/ggml-vocab-llama-spm.gguf.out" 12)
hello_gpt2=$(want_line "$gpt2/ggml-vocab-gpt-2.gguf.out" 12)
[ "$hello_spm" = "15043 3186" ] || { echo "FAIL vector file changed: '$hello_spm'"; failed=$((failed+1)); }

expect_out "spm gguf, --no-bos" "$hello_spm" "$bin" tokenize "$spm/ggml-vocab-llama-spm.gguf" --text "Hello world" --no-bos
expect_out "spm gguf, default BOS" "1 $hello_spm" "$bin" tokenize "$spm/ggml-vocab-llama-spm.gguf" --text "Hello world"
expect_out "spm json, default BOS (template)" "1 $hello_spm" "$bin" tokenize "$spm/tokenizer.json" --text "Hello world"
expect_out "spm folder" "1 $hello_spm" "$bin" tokenize "$spm" --text "Hello world"
expect_out "gpt2 gguf, no BOS by default" "$hello_gpt2" "$bin" tokenize "$gpt2/ggml-vocab-gpt-2.gguf" --text "Hello world"
expect_out "gpt2 json --bos" "50256 $hello_gpt2" "$bin" tokenize "$gpt2/tokenizer.json" --text "Hello world" --bos
expect_out "empty text" "" "$bin" tokenize "$gpt2/tokenizer.json" --text ""
expect_out "empty text with BOS" "1" "$bin" tokenize "$spm/tokenizer.json" --text ""

# --file reads the bytes exactly: the last vector (multi-line) of the .inp
awk 'BEGIN{RS="\n__ggml_vocab_test__\n"} {last=$0} END{printf "%s", last}' \
  "$spm/ggml-vocab-llama-spm.gguf.inp" >"$tmp/long.txt"
long_spm=$(want_line "$spm/ggml-vocab-llama-spm.gguf.out" 46)
expect_out "--file, multi-line text" "$long_spm" "$bin" tokenize "$spm/ggml-vocab-llama-spm.gguf" --file "$tmp/long.txt" --no-bos

# llama2.c: the first tokens.txt sequence of stories260K starts
# "Once upon a time" = 1 403 407 261 378 (llama-tokenize, BOS first)
st=$shared/models/stories260K
first4=$(cut -d' ' -f1-5 "$st/tokens.txt" | head -1)
expect_out "llama2.c checkpoint -> tok512.bin" "$first4" "$bin" tokenize "$st/stories260K.bin" --text "Once upon a time"
expect_out "llama2.c tokenizer.bin" "$first4" "$bin" tokenize "$st/tok512.bin" --text "Once upon a time"
expect_out "GGUF model vocabulary" "$first4" "$bin" tokenize "$st/stories260K.gguf" --text "Once upon a time"

if "$bin" tokenize --help >"$tmp/help" && head -1 "$tmp/help" | grep -q "^usage: slashscope tokenize MODEL" &&
   grep -q -- "--no-bos" "$tmp/help"; then echo "ok   --help"; passed=$((passed+1));
else echo "FAIL --help"; cat "$tmp/help"; failed=$((failed+1)); fi

expect_fail "no text" "exactly one of --text" "$bin" tokenize "$spm" 
expect_fail "both --text and --file" "exactly one of --text" "$bin" tokenize "$spm" --text a --file "$tmp/long.txt"
expect_fail "--bos with --no-bos" "contradict" "$bin" tokenize "$spm" --text a --bos --no-bos
expect_fail "no model" "expected one MODEL" "$bin" tokenize --text a
expect_fail "missing model" "no-such: No such file" "$bin" tokenize "$tmp/no-such" --text a
expect_fail "missing --file" "nope.txt" "$bin" tokenize "$spm" --file "$tmp/nope.txt"
expect_fail "HF folder without tokenizer.json" "without tokenizer.json" "$bin" tokenize "$shared/fixtures/qwen2/hf" --text a
expect_fail "checkpoint without tokenizer" "tok\*\.bin" "$bin" tokenize "$shared/models/llama2xs_tinystories/model.bin" --text a
printf '{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}' >"$tmp/tokenizer.json"
expect_out "minimal tokenizer.json" "0 0" "$bin" tokenize "$tmp/tokenizer.json" --text aa
expect_fail "--bos without a BOS token" "no BOS token" "$bin" tokenize "$tmp/tokenizer.json" --text a --bos
printf '{"model": {"type": "Unigram", "vocab": []}}' >"$tmp/tokenizer.json"
expect_fail "unsupported model type" "Unigram.*not supported" "$bin" tokenize "$tmp/tokenizer.json" --text a
head -c 3000 "$st/tok512.bin" >"$tmp/tok_cut.bin"
expect_fail "truncated tokenizer.bin" "tok_cut.bin: truncated" "$bin" tokenize "$tmp/tok_cut.bin" --text a

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
