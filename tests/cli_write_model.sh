#!/usr/bin/env bash
# compress --write-model from every input format (issue 14), checked against
# the data set's own HF folders and by numpy (tests/lowrank_ref.py):
#  - llama2.c .bin and its GGUF, thre 1: the written folder's tensors are the
#    shared hf/ folder's (made from the .bin by the data set's converter, q/k
#    rows permuted to HF order) byte for byte, its config.json the same values;
#    its logits = hf/'s and the source checkpoint's bit for bit (the engine
#    brings interleaved q/k rows to HF's order right after the projections,
#    so the arithmetic is the same);
#  - a real plan from the .bin: every compressed block has exactly its kept
#    rank (numpy SVD), --lowrank on the .bin = the written model bit for bit;
#  - F16 and Q8_0 GGUFs (mistral_mha, arch llama): F16 kept (= the HF F32
#    rounded to F16), Q8_0 written dequantized; logits as the source's (F16
#    bit for bit, Q8_0 within 2e-5 relative);
#  - fused q/k/v (phi3 qkv_proj, gpt_neox query_key_value per head): thre 1
#    byte for byte, a real plan's q/k blocks at their rank, v rows and every
#    other tensor the source's, --lowrank = the written model bit for bit;
#  - the GGUFs of qwen2, phi3, gptneox, olmo2, gemma, gemma2, llama_yarn:
#    the fixture's own HF folder again, logits bit for bit; real plans on
#    the fused ones (phi3 blocked, gptneox regrouped per head);
#  - llama3's rope_freqs GGUF is refused before any work;
#  - --max-shard-size: the 0.9 / 2 model split as huggingface_hub splits it
#    (tests/shard_check.py: its rule reimplemented, every tensor the one
#    file's bytes), logits bit for bit the one file's; a write that fails
#    mid-file (ulimit -f) names the file and leaves no folder.
set -u
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
bin=${SS_BIN:?}; shared=${SS_SHARED:?}; tmp=${SS_TMP:-/tmp}/cli_write_model
rm -rf "$tmp"; mkdir -p "$tmp"
passed=0; failed=0
. "$(dirname "$0")/lib_expect.sh"
py=/usr/bin/python3
ref=$(dirname "$0")/lowrank_ref.py
st=$shared/models/stories260K
samples=$shared/prompts/stories260K-samples.ids
ids=$(head -1 "$samples" | cut -d' ' -f1-32)
src=(--ids-file "$samples" --len 32 --count 4)
same() { cmp -s "$2" "$3" && ok "$1" || bad "$1"; }
check_ref() { if $py "$ref" "$@" >"$tmp/err" 2>&1; then ok "numpy: $(cat "$tmp/err")"; else bad "lowrank_ref $*"; fi; }
# close NAME A.npy B.npy TOL: max |a - b| <= TOL * max |b|
close() {
  if $py -c "import numpy as np,sys; a,b=np.load(sys.argv[1]),np.load(sys.argv[2]); d=float(np.abs(a-b).max()); m=float(np.abs(b).max()); print(f'max diff {d:.3g}, {d/m:.3g} relative'); sys.exit(not (a.shape==b.shape and d <= float(sys.argv[3])*m))" "$2" "$3" "$4" >"$tmp/err" 2>&1
  then ok "$1 ($(cat "$tmp/err"))"; else bad "$1"; fi
}
logits() { expect_ok "logits $1" "$bin" logits "$2" --ids "${3:-$ids}" --out "$tmp/$1.npy" --quiet "${@:4}"; }

# llama2.c and GGUF, thre 1: the shared hf/ folder again
logits hf "$st/hf"
for x in bin:stories260K.bin gguf:stories260K.gguf; do
  k=${x%%:*}; f=$st/${x#*:}
  expect_ok "write from .$k (thre 1)" "$bin" compress "$f" "${src[@]}" --thre 1 --rank-thre 8 --out "$tmp/p_$k" --write-model "$tmp/m_$k" --quiet
  logits "src_$k" "$f"
  logits "m_$k" "$tmp/m_$k"
  same "written from .$k: logits bit for bit as the shared hf/ folder's" "$tmp/hf.npy" "$tmp/m_$k.npy"
  same "written from .$k: logits bit for bit as the .$k's" "$tmp/m_$k.npy" "$tmp/src_$k.npy"
done
# the .bin ties the classifier (no lm_head, as save_pretrained writes it); the
# GGUF stores output.weight and says context 2048 (NOTES.md)
check_ref "$st/hf" "$tmp/m_bin" "$tmp/p_bin" 1 8 --converted
check_ref "$st/hf" "$tmp/m_gguf" "$tmp/p_gguf" 1 8 --converted=max_position_embeddings,tie_word_embeddings
if $py -c "import json,sys; c=json.load(open(sys.argv[1])); sys.exit(not (c['max_position_embeddings']==2048 and c['tie_word_embeddings'] is False and c['architectures']==['LlamaForCausalLM']))" "$tmp/m_gguf/config.json"
then ok "from the GGUF: its context 2048 and its explicit output.weight (untied)"; else bad "GGUF config"; fi

# no tokenizer files: text prompts name the source's tokenizer (docs/compress.md)
jl=$shared/prompts/stories260K-samples.jsonl
expect_fail "text prompts on the written folder without --tokenizer" "without tokenizer.json.*--tokenizer" "$bin" ppl "$tmp/m_gguf" --prompts "$jl" --len 32 --count 2 --out "$tmp/t0"
expect_ok "... with the GGUF's tokenizer" "$bin" ppl "$tmp/m_gguf" --prompts "$jl" --len 32 --count 2 --tokenizer "$st/stories260K.gguf" --out "$tmp/t1" --quiet
expect_ok "... ppl of the GGUF itself" "$bin" ppl "$st/stories260K.gguf" --prompts "$jl" --len 32 --count 2 --out "$tmp/t2" --quiet
if $py -c "import json,sys; a,b=(json.load(open(x+'/ppl.json'))['loss'] for x in sys.argv[1:3]); sys.exit(a!=b)" "$tmp/t1" "$tmp/t2"
then ok "... the same loss as the GGUF's"; else bad "written + --tokenizer vs GGUF ppl"; fi

# a real plan from the .bin
expect_ok "write from .bin (0.9 / 2)" "$bin" compress "$st/stories260K.bin" "${src[@]}" --thre 0.9 --rank-thre 2 --out "$tmp/p2" --write-model "$tmp/m2" --quiet
check_ref "$st/hf" "$tmp/m2" "$tmp/p2" 0.9 2 --converted
logits m2 "$tmp/m2"
logits l2 "$st/stories260K.bin" "$ids" --lowrank "$tmp/p2"
same "--lowrank PLAN on the .bin = the model written from it (logits bit for bit)" "$tmp/m2.npy" "$tmp/l2.npy"
cmp -s "$tmp/m2.npy" "$tmp/hf.npy" && bad "the compression changes the logits" || ok "the compression changes the logits"

# F16 and Q8_0 GGUFs (arch llama, MHA, head_dim 16)
mi=$shared/fixtures/mistral_mha
for q in f16 q8_0; do
  expect_ok "write from the $q GGUF" "$bin" compress "$mi/model.$q.gguf" --ood 2 --seed 1 --len 16 --thre 1 --rank-thre 16 --out "$tmp/p_$q" --write-model "$tmp/m_$q" --quiet
  logits "src_$q" "$mi/model.$q.gguf" "1 5 9 33 7 100 3"
  logits "m_$q" "$tmp/m_$q" "1 5 9 33 7 100 3"
done
same "F16 GGUF: the written model's logits bit for bit as the source's" "$tmp/m_f16.npy" "$tmp/src_f16.npy"
# the engine dequantizes Q8_0 rows to F32 before its products today (then this is exact);
# an engine with quantized dot products would round differently, hence a tolerance
close "Q8_0 GGUF: the written model's logits as the source's" "$tmp/m_q8_0.npy" "$tmp/src_q8_0.npy" 2e-5
check_ref "$mi/hf" "$tmp/m_f16" "$tmp/p_f16" 1 16 --converted=architectures,model_type,pad_token_id,use_cache,sliding_window,attention_bias,mlp_bias,rope_scaling,torch_dtype
if $py -c "
import json, struct, sys
f = open(sys.argv[1] + '/model.safetensors', 'rb')
h = json.loads(f.read(struct.unpack('<Q', f.read(8))[0]))
d = sorted({v['dtype'] for k, v in h.items() if k != '__metadata__'})
print(d, h.get('__metadata__')); sys.exit(d != ['F32'] or h.get('__metadata__') != {'format': 'pt'})" "$tmp/m_q8_0" >"$tmp/err" 2>&1
then ok "Q8_0 written as F32, with save_pretrained's format metadata ($(cat "$tmp/err"))"; else bad "Q8_0 dtypes / metadata"; fi

# fused q/k/v
# random fixtures: high rank; these pairs compress every head of phi3, 2 of gptneox's 4 W_Q
for x in phi3:0.8:20 gptneox:0.8:16; do
  IFS=: read -r fx t r <<<"$x"
  h=$shared/fixtures/$fx/hf
  expect_ok "$fx: write (thre 1)" "$bin" compress "$h" --ood 3 --seed 2 --len 24 --thre 1 --rank-thre 32 --out "$tmp/p1_$fx" --write-model "$tmp/m1_$fx" --quiet
  check_ref "$h" "$tmp/m1_$fx" "$tmp/p1_$fx" 1 32
  logits "s_$fx" "$h" "1 5 9 33 7"
  logits "m1_$fx" "$tmp/m1_$fx" "1 5 9 33 7"
  same "$fx: the thre-1 model runs bit for bit as the source" "$tmp/s_$fx.npy" "$tmp/m1_$fx.npy"
  expect_ok "$fx: write ($t / $r)" "$bin" compress "$h" --ood 3 --seed 2 --len 24 --thre "$t" --rank-thre "$r" --out "$tmp/p2_$fx" --write-model "$tmp/m2_$fx" --quiet
  check_ref "$h" "$tmp/m2_$fx" "$tmp/p2_$fx" "$t" "$r"
  logits "m2_$fx" "$tmp/m2_$fx" "1 5 9 33 7"
  logits "l2_$fx" "$h" "1 5 9 33 7" --lowrank "$tmp/p2_$fx"
  same "$fx: --lowrank PLAN = the written model (logits bit for bit)" "$tmp/m2_$fx.npy" "$tmp/l2_$fx.npy"
  cmp -s "$tmp/m2_$fx.npy" "$tmp/s_$fx.npy" && bad "$fx: the compression changes the logits" || ok "$fx: the compression changes the logits"
done

# the GGUF of every other architecture (and llama with yarn): thre 1 gives the
# fixture's own HF folder again (config values, tensors; Gemma's norms as 1 + w,
# which the GGUF stores), logits bit for bit as the GGUF's and the HF folder's
fids="1 5 9 33 7 100 3"
for fx in qwen2 phi3 gptneox olmo2 gemma gemma2 llama_yarn; do
  fd=$shared/fixtures/$fx
  expect_ok "$fx GGUF: write (thre 1)" "$bin" compress "$fd/model.gguf" --ood 2 --seed 1 --len 12 --thre 1 --rank-thre 1 --out "$tmp/pg_$fx" --write-model "$tmp/mg_$fx" --quiet
  check_ref "$fd/hf" "$tmp/mg_$fx" "$tmp/pg_$fx" 1 1 --converted
  logits "g_$fx" "$fd/model.gguf" "$fids"
  logits "gh_$fx" "$fd/hf" "$fids"
  logits "gm_$fx" "$tmp/mg_$fx" "$fids"
  same "$fx GGUF: the written model's logits bit for bit as the GGUF's" "$tmp/g_$fx.npy" "$tmp/gm_$fx.npy"
  same "$fx GGUF: ... and as the fixture's HF folder's" "$tmp/gh_$fx.npy" "$tmp/gm_$fx.npy"
done
# a real plan on the fused GGUFs (blocked attn_qkv; gpt_neox regrouped per head)
for x in phi3:0.8:20 gptneox:0.8:16; do
  IFS=: read -r fx t r <<<"$x"
  fd=$shared/fixtures/$fx
  expect_ok "$fx GGUF: write ($t / $r)" "$bin" compress "$fd/model.gguf" --ood 3 --seed 2 --len 24 --thre "$t" --rank-thre "$r" --out "$tmp/pg2_$fx" --write-model "$tmp/mg2_$fx" --quiet
  check_ref "$fd/hf" "$tmp/mg2_$fx" "$tmp/pg2_$fx" "$t" "$r" --converted
  logits "gm2_$fx" "$tmp/mg2_$fx" "$fids"
  logits "gl2_$fx" "$fd/model.gguf" "$fids" --lowrank "$tmp/pg2_$fx"
  same "$fx GGUF: --lowrank PLAN = the written model (logits bit for bit)" "$tmp/gm2_$fx.npy" "$tmp/gl2_$fx.npy"
done

expect_fail "a llama3 rope_freqs GGUF" "rope_freqs" "$bin" compress "$shared/fixtures/llama3_gqa/model.gguf" --ood 2 --len 8 --thre 0.9 --rank-thre 2 --out "$tmp/py" --write-model "$tmp/my"
[ -e "$tmp/py" ] && bad "... refused before writing the plan" || ok "... refused before writing the plan"

# the two folders are one outcome: a run that fails after the model is written (here: its
# --sdh folder for the eval is missing; a bad --eval-prompts fails before any folder, in
# cli_lowrank.sh) leaves neither finished, and --write-model = --out is refused before any work
head -2 "$samples" >"$tmp/ev.ids"
expect_fail "--sdh missing, after the model is written" "nonexist" "$bin" compress "$st/stories260K.bin" --ood 2 --len 8 --thre 0.9 --rank-thre 2 --out "$tmp/pe" --write-model "$tmp/me" --eval-prompts "$tmp/ev.ids" --eval-len 8 --sdh "$tmp/nonexist" --quiet
[ -e "$tmp/me" ] || [ -e "$tmp/pe" ] && bad "... a folder was left finished" || ok "... neither folder finished"
ls -d "$tmp"/me.* "$tmp"/pe.* >/dev/null 2>&1 && bad "... left work folders" || ok "... no work folder or lock left"
expect_fail "--write-model = --out" "own" "$bin" compress "$st/stories260K.bin" --ood 2 --len 8 --thre 0.9 --rank-thre 2 --out "$tmp/same" --write-model "$tmp/same/" --quiet

# shards (docs/compress.md): 40 KB puts the 128 KiB embedding and each 43 KiB FFN matrix alone
expect_ok "write from .bin in 40 KB shards" "$bin" compress "$st/stories260K.bin" "${src[@]}" --thre 0.9 --rank-thre 2 --out "$tmp/ps" --write-model "$tmp/ms" --max-shard-size 40KB --quiet
if $py "$(dirname "$0")/shard_check.py" "$tmp/m2" "$tmp/ms" 40000 >"$tmp/err" 2>&1
then ok "shards as save_pretrained splits them: $(cat "$tmp/err")"; else bad "shard_check: $(cat "$tmp/err")"; fi
logits ms "$tmp/ms"
same "the sharded model's logits bit for bit as the one file's" "$tmp/m2.npy" "$tmp/ms.npy"
expect_fail "--max-shard-size 5XB" "max-shard-size '5XB'" "$bin" compress "$st/stories260K.bin" --ood 1 --len 8 --thre 1 --rank-thre 1 --out "$tmp/pb" --write-model "$tmp/mb" --max-shard-size 5XB
expect_fail "--max-shard-size without --write-model" "give --write-model" "$bin" compress "$st/stories260K.bin" --ood 1 --len 8 --thre 1 --rank-thre 1 --out "$tmp/pb" --max-shard-size 1GB
[ -e "$tmp/pb" ] && bad "... refused before any work" || ok "... refused before any work"

# progress on a terminal only (script runs it on a pseudo-terminal), never with --quiet
script -qec "'$bin' compress '$st/stories260K.bin' --ood 1 --len 8 --thre 1 --rank-thre 1 --out '$tmp/pt' --write-model '$tmp/mt'" /dev/null >"$tmp/tty.txt" 2>&1
grep -aq "writing the model: 1/1 MB" "$tmp/tty.txt" && ok "progress line on a terminal" || bad "no progress line on a terminal"
script -qec "'$bin' compress '$st/stories260K.bin' --ood 1 --len 8 --thre 1 --rank-thre 1 --out '$tmp/pq' --write-model '$tmp/mq' --quiet" /dev/null >"$tmp/tty.txt" 2>&1
grep -aq "writing the model" "$tmp/tty.txt" && bad "a progress line with --quiet" || ok "none with --quiet"
"$bin" compress "$st/stories260K.bin" --ood 1 --len 8 --thre 1 --rank-thre 1 --out "$tmp/pp" --write-model "$tmp/mp" 2>"$tmp/pipe.txt" >/dev/null
grep -q "writing the model" "$tmp/pipe.txt" && bad "a progress line on a pipe" || ok "none on a pipe"

# a file size limit (as a full disk) mid-write: the error names the file, no folder is left
# finished or half-written (SIGXFSZ ignored, so the write returns EFBIG as on ENOSPC)
if (ulimit -f 512; trap '' XFSZ; exec "$bin" compress "$st/stories260K.bin" "${src[@]}" --thre 0.9 --rank-thre 2 --out "$tmp/pf" --write-model "$tmp/mf" --quiet) >"$tmp/err" 2>&1
then bad "a 512 KB file size limit: the 1 MB model was written"
else grep -q "mf.partial/model.safetensors: write failed after" "$tmp/err" && ok "a 512 KB file size limit: $(cat "$tmp/err")" || bad "file size limit: $(cat "$tmp/err")"; fi
ls -d "$tmp"/mf* "$tmp"/pf* >/dev/null 2>&1 && bad "... left a folder" || ok "... no folder, work folder or lock left"

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
