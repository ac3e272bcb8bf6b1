"""Small VALID tokenizer.json seeds for fuzz_tokenizer_json (fuzz/run.sh).

Cutting a 1-2 MB tokenizer.json to the fuzzer's 16 KB max_len leaves invalid
JSON that the parser rejects at once (the smoke run then covers ~10 edges).
Instead: each shared tokenizer.json cut down to its first 300 tokens (merges
kept where both parts and the result survive, added tokens renumbered after
them), and hand-made files that use every normalizer, pre-tokenizer and
decoder step slashscope reads. Standard library only.

usage: make_tokenizer_seeds.py OUT_DIR SHARED_DIR
"""
import json
import os
import sys

K = 300          # tokens kept per shared tokenizer
MAX_LEN = 16384  # fuzz/run.sh -max_len: a longer seed would be cut back into invalid JSON


def shrink(path):
    t = json.load(open(path, encoding='utf-8'))
    m = t['model']
    keep = {p: i for p, i in m['vocab'].items() if i < K}
    merges = []
    for mg in m['merges']:
        a, b = mg.split(' ', 1) if isinstance(mg, str) else mg
        if a in keep and b in keep and a + b in keep:
            merges.append(mg)
    m['vocab'], m['merges'] = keep, merges
    renamed, nxt = {}, K
    for at in t.get('added_tokens') or []:
        if at['id'] >= K:
            renamed[at['content']] = nxt
            at['id'] = nxt
            nxt += 1
    pp = t.get('post_processor') or {}
    for st in (pp.get('special_tokens') or {}).values():
        st['ids'] = [renamed.get(st.get('id'), i) for i in st.get('ids', [])]
    return t


def hand_made():
    vocab = {'<unk>': 0, '<s>': 1, '</s>': 2}
    for b in range(256):
        vocab['<0x%02X>' % b] = len(vocab)
    for p in ['\u2581', 'a', 'b', 'c', 'e', 'h', 'l', 'o', 'w', 'r', 'd', '\u2581h', 'he', 'll',
              'hell', 'hello', '\u2581hello', '1', '2', '3', "'", 's']:
        vocab.setdefault(p, len(vocab))
    merges = ['h e', 'l l', 'he ll', 'hell o', '\u2581 hello', '\u2581 h']
    added = [{'id': 1, 'content': '<s>', 'single_word': False, 'lstrip': False, 'rstrip': False,
              'normalized': False, 'special': True},
             {'id': len(vocab), 'content': 'hello world', 'single_word': True, 'lstrip': True,
              'rstrip': True, 'normalized': True, 'special': False}]

    def tok(normalizer, pre, decoder=None):
        return {'version': '1.0', 'added_tokens': added, 'normalizer': normalizer,
                'pre_tokenizer': pre,
                'post_processor': {'type': 'TemplateProcessing', 'single': [
                    {'SpecialToken': {'id': '<s>', 'type_id': 0}},
                    {'Sequence': {'id': 'A', 'type_id': 0}}],
                    'special_tokens': {'<s>': {'id': '<s>', 'ids': [1], 'tokens': ['<s>']}}},
                'decoder': decoder,
                'model': {'type': 'BPE', 'vocab': vocab, 'merges': merges, 'unk_token': '<unk>',
                          'byte_fallback': True, 'fuse_unk': True}}

    norms = {'type': 'Sequence', 'normalizers': [
        {'type': 'NFKC'}, {'type': 'NFD'}, {'type': 'StripAccents'}, {'type': 'NFC'},
        {'type': 'NFKD'}, {'type': 'Lowercase'},
        {'type': 'Strip', 'strip_left': True, 'strip_right': True},
        {'type': 'Replace', 'pattern': {'Regex': '\\s+'}, 'content': ' '},
        {'type': 'Prepend', 'prepend': '\u2581'},
        {'type': 'Replace', 'pattern': {'String': ' '}, 'content': '\u2581'}]}
    split = lambda pat, beh, inv=False: {'type': 'Split', 'pattern': pat, 'behavior': beh,
                                         'invert': inv}
    pres = {'type': 'Sequence', 'pretokenizers': [
        split({'Regex': "'s|\\p{L}+"}, 'Isolated'),
        split({'String': 'o'}, 'MergedWithPrevious'),
        split({'String': 'l'}, 'MergedWithNext', True),
        split({'Regex': '\\d'}, 'Contiguous'),
        split({'String': 'x'}, 'Removed'),
        {'type': 'Punctuation', 'behavior': 'Isolated'},
        {'type': 'Digits', 'individual_digits': True},
        {'type': 'WhitespaceSplit'},
        {'type': 'Metaspace', 'replacement': '\u2581', 'prepend_scheme': 'first', 'split': True}]}
    spm_dec = {'type': 'Sequence', 'decoders': [
        {'type': 'Replace', 'pattern': {'String': '\u2581'}, 'content': ' '},
        {'type': 'ByteFallback'}, {'type': 'Fuse'},
        {'type': 'Strip', 'content': ' ', 'start': 1, 'stop': 0}]}
    return {
        'steps': tok(norms, pres, spm_dec),
        'metaspace': tok(None, {'type': 'Metaspace', 'replacement': '\u2581',
                                'prepend_scheme': 'always', 'split': False},
                         {'type': 'Metaspace', 'prepend_scheme': 'always'}),
        'bytelevel': tok({'type': 'NFC'}, {'type': 'ByteLevel', 'add_prefix_space': True,
                                           'use_regex': True}, {'type': 'ByteLevel'}),
    }


def main():
    out, shared = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    n = 0
    for root, _, files in os.walk(shared, followlinks=True):
        for f in sorted(files):
            if f == 'tokenizer.json':
                path = os.path.join(root, f)
                name = os.path.relpath(path, shared).replace('/', '_')
                with open(os.path.join(out, 'small_' + name), 'w', encoding='utf-8') as o:
                    json.dump(shrink(path), o, ensure_ascii=False)
                n += 1
    made = hand_made()
    for k, v in made.items():
        with open(os.path.join(out, 'steps_%s.json' % k), 'w', encoding='utf-8') as o:
            json.dump(v, o, ensure_ascii=False)
    big = [f for f in os.listdir(out) if os.path.getsize(os.path.join(out, f)) > MAX_LEN]
    if big:
        sys.exit('make_tokenizer_seeds.py: seeds over %d bytes: %s' % (MAX_LEN, big))
    print('fuzz/run.sh: %d shared tokenizer.json files cut to %d tokens, %d hand-made seeds'
          % (n, K, len(made)))


if __name__ == '__main__':
    main()
