#!/usr/bin/env bash
# Bad model files and bad inputs through the CLI: each must give a non-zero
# exit (not a crash), and one line on stderr naming what is wrong.
set -u
bin=${SS_BIN:?}; shared=${SS_SHARED:?}; tmp=${SS_TMP:-/tmp}/cli_model_errors
rm -rf "$tmp"; mkdir -p "$tmp"
passed=0; failed=0

# expect_fail NAME PATTERN CMD...: exit 1 or 2, stderr matches PATTERN (ERE)
expect_fail() {
  local name=$1 pattern=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
  if [ $rc -ne 1 ] && [ $rc -ne 2 ]; then
    echo "FAIL $name: exit $rc (want 1 or 2)"; cat "$tmp/err"; failed=$((failed+1)); return
  fi
  if ! grep -Eq -- "$pattern" "$tmp/err"; then
    echo "FAIL $name: message does not match /$pattern/:"; cat "$tmp/err"; failed=$((failed+1)); return
  fi
  if [ "$(wc -l <"$tmp/err")" -ne 1 ]; then
    echo "FAIL $name: want one line on stderr:"; cat "$tmp/err"; failed=$((failed+1)); return
  fi
  echo "ok   $name: $(cat "$tmp/err")"; passed=$((passed+1))
}
expect_ok() {
  local name=$1; shift
  if "$@" >"$tmp/out" 2>"$tmp/err"; then echo "ok   $name"; passed=$((passed+1));
  else echo "FAIL $name: exit $?"; cat "$tmp/err"; failed=$((failed+1)); fi
}
# patch FILE OFFSET HEXBYTES: overwrite bytes in place
patch() { perl -e 'open(F,"+<",$ARGV[0]) or die; binmode F; seek(F,$ARGV[1],0); print F pack("H*",$ARGV[2]); close F' "$@"; }
# replace FILE OLD NEW: same-length text replacement in the first occurrence
replace() { perl -e 'local $/; open(F,"+<",$ARGV[0]) or die; binmode F; my $d=<F>; my $i=index($d,$ARGV[1]); die "no $ARGV[1]" if $i<0; seek(F,$i,0); print F $ARGV[2]; close F' "$@"; }

fx=$shared/fixtures/mistral_mha
ids="1 5 9 13 17"

expect_fail "missing file" "no-such-model: no such file" "$bin" info "$tmp/no-such-model"
# GGUF
head -c 5000 "$fx/model.gguf" >"$tmp/truncated.gguf"
expect_fail "truncated GGUF" "truncated.gguf" "$bin" info "$tmp/truncated.gguf"
cp "$fx/model.gguf" "$tmp/magic.gguf"; patch "$tmp/magic.gguf" 0 47475558
expect_fail "wrong magic" "magic.gguf: .*(not a recognised model|magic|header)" "$bin" info "$tmp/magic.gguf"
# safetensors
mkhf() { rm -rf "$tmp/$1"; cp -r "$fx/hf" "$tmp/$1"; }
mkhf hdrlen; patch "$tmp/hdrlen/model.safetensors" 0 ffffff0000000000
expect_fail "header length beyond the file" "model.safetensors.*header" "$bin" info "$tmp/hdrlen"
mkhf dtype; replace "$tmp/dtype/model.safetensors" '"F32"' '"F16"'
expect_fail "dtype does not match the data size" "model.safetensors.*(F16|bytes|size)" "$bin" info "$tmp/dtype"
mkhf outside; head -c -4096 "$fx/hf/model.safetensors" >"$tmp/outside/model.safetensors"
expect_fail "tensor data outside the file" "model.safetensors" "$bin" info "$tmp/outside"
mkhf missing; replace "$tmp/missing/model.safetensors" '"model.norm.weight"' '"model.norm.weighX"'
expect_fail "missing tensor" "required tensor 'model.norm.weight' is missing" "$bin" info "$tmp/missing"
mkhf shape; replace "$tmp/shape/config.json" '"intermediate_size": 160' '"intermediate_size": 176'
expect_fail "shape mismatch" "mlp.gate_proj.weight' has shape \[160, 64\], the config implies \[176, 64\]" "$bin" info "$tmp/shape"
mkhf badjson; printf '{"model_type": "mistral", "hidden_size": 64,,}' >"$tmp/badjson/config.json"
expect_fail "malformed config.json" "config.json" "$bin" info "$tmp/badjson"
mkhf arch; replace "$tmp/arch/config.json" '"model_type": "mistral"' '"model_type": "gpt2xxx"'
expect_fail "unknown architecture" "model_type 'gpt2xxx' is not supported \(supported: llama, mistral, qwen2, qwen3, gemma, gemma2, gemma3_text, olmo2, gpt_neox, phi3\)" "$bin" info "$tmp/arch"
cp "$fx/model.gguf" "$tmp/arch.gguf"; replace "$tmp/arch.gguf" 'llama' 'bloom'
expect_fail "unknown GGUF architecture" "general.architecture 'bloom' is not supported \(supported: llama, qwen2, gemma, gemma2, olmo2, gptneox, phi3\)" "$bin" info "$tmp/arch.gguf"
rm -rf "$tmp/scal"; cp -r "$shared/fixtures/llama_yarn/hf" "$tmp/scal"
replace "$tmp/scal/config.json" '"rope_type": "yarn"' '"rope_type": "ntk4"'
expect_fail "unknown rope_scaling type" "rope_scaling type 'ntk4' is not supported \(supported: default, linear, llama3, yarn, dynamic, longrope\)" "$bin" info "$tmp/scal"
rm -rf "$tmp/qwin"; cp -r "$shared/fixtures/qwen2/hf" "$tmp/qwin"
replace "$tmp/qwin/config.json" '"use_sliding_window": false' '"use_sliding_window": true '
expect_ok "Qwen2 per-layer sliding windows (max_window_layers)" "$bin" info "$tmp/qwin" --json
rm -rf "$tmp/g3"; cp -r "$shared/fixtures/gemma3/hf" "$tmp/g3"
replace "$tmp/g3/config.json" '"full_attention"' '"chunked_attent"'
expect_fail "unknown layer type" "layer_types\[1\] = 'chunked_attent' \(supported: sliding_attention, full_attention\)" "$bin" info "$tmp/g3"
rm -rf "$tmp/g3m"; cp -r "$shared/fixtures/gemma3/hf" "$tmp/g3m"
replace "$tmp/g3m/config.json" '"model_type": "gemma3_text"' '"model_type": "gemma3"     '
expect_fail "multimodal gemma3 named" "model_type 'gemma3' is the multimodal checkpoint" "$bin" info "$tmp/g3m"
mkhf bos; replace "$tmp/bos/config.json" '"bos_token_id": 1,' '"bos_token_id":1e78,'
expect_fail "token id out of range in config" "config.json: field 'bos_token_id' must be a token id" "$bin" info "$tmp/bos"
mkhf eoslist; replace "$tmp/eoslist/config.json" '"eos_token_id": 2,' '"eos_token_id":[2],'
expect_ok "eos_token_id as a list (Llama 3.1)" "$bin" info "$tmp/eoslist" --json
grep -q '"eos_id":[[:space:]]*2,' "$tmp/out" && { echo "ok   the list's first id is kept"; passed=$((passed+1)); } || { echo "FAIL eos list"; failed=$((failed+1)); }
mkhf field; replace "$tmp/field/config.json" '"rms_norm_eps": 1e-05' '"rms_norm_eps":"1e-5"'
expect_fail "field of the wrong type" "config.json.*rms_norm_eps" "$bin" info "$tmp/field"
mkhf range; replace "$tmp/range/config.json" '"num_attention_heads": 4' '"num_attention_heads": 0'
expect_fail "field out of range" "config.json.*num_attention_heads.*1 to 65536" "$bin" info "$tmp/range"
# NaN and Inf weights (llama2.c: 28-byte header, embedding 300x64, rms_att 2x64, then wq)
cp "$fx/model.bin" "$tmp/nan.bin"; patch "$tmp/nan.bin" $((28 + 4 * (300 * 64 + 2 * 64) + 4 * 70)) 0000c07f
expect_fail "NaN weight" "nan.bin: tensor 'blk.0.attn_q.weight' holds a non-finite weight" "$bin" logits "$tmp/nan.bin" --ids "$ids" --out "$tmp/x.npy"
cp "$fx/model.bin" "$tmp/inf.bin"; patch "$tmp/inf.bin" $((28 + 4 * (300 * 64 + 2 * 64) + 4 * 70)) 0000807f
expect_fail "Inf weight" "inf.bin: tensor 'blk.0.attn_q.weight' holds a non-finite weight" "$bin" logits "$tmp/inf.bin" --ids "$ids" --out "$tmp/x.npy"
cp "$fx/model.bin" "$tmp/short.bin"; truncate -s 100000 "$tmp/short.bin"
expect_fail "llama2.c file too short" "short.bin" "$bin" info "$tmp/short.bin"
# token ids and lengths
expect_fail "token id out of range" "token id 5000 at position 1 is outside the vocabulary \(0..299\)" "$bin" logits "$fx/hf" --ids "1 5000" --out "$tmp/x.npy"
expect_fail "negative token id" "--ids: token 2 is not a non-negative integer id" "$bin" logits "$fx/hf" --ids "1 -3" --out "$tmp/x.npy"
seq 1 600 | awk '{printf "%d ", $1 % 300}' >"$tmp/long.txt"; echo >>"$tmp/long.txt"
expect_fail "sequence longer than the context" "600 tokens, more than the model's context of 512.*--allow-long" "$bin" logits "$fx/hf" --ids-file "$tmp/long.txt" --out "$tmp/x.npy"
expect_ok "--allow-long runs it" "$bin" logits "$fx/hf" --ids-file "$tmp/long.txt" --out "$tmp/long.npy" --allow-long
: >"$tmp/empty.txt"
expect_fail "empty ids file" "empty.txt: no token ids" "$bin" logits "$fx/hf" --ids-file "$tmp/empty.txt" --out "$tmp/x.npy"
expect_fail "unknown flag" "unknown option --bogus" "$bin" logits "$fx/hf" --bogus --out "$tmp/x.npy"
expect_fail "layer out of range" "--layer wants a whole number from 0 to 1" "$bin" attn "$fx/hf" --ids "$ids" --layer 7 --head 0 --out "$tmp/x.npy"
expect_fail "output folder missing" "no-dir/x.npy: cannot create" "$bin" logits "$fx/hf" --ids "$ids" --out "$tmp/no-dir/x.npy"
[ ! -e "$tmp/x.npy" ] && { echo "ok   no output left behind by failed runs"; passed=$((passed+1)); } || { echo "FAIL a failed run left x.npy"; failed=$((failed+1)); }

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
