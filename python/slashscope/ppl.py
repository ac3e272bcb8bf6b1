"""ss.ppl: perplexity of a prompt source (the program's `ppl`), under the
same interventions as every pass (ablate=, head_rope_remove=, RoPE
ablations)."""
from ._lib import Error, lib
from ._run import run_pass
from .model import Model
from .rank import pass_params
from .result import Result
from .scan import _spec


class Ppl(Result):
    """Arrays (views): prompt_nll [P] (mean NLL of each prompt, nats/token,
    source order), prompt_tokens [P], loss_by_pos [len] (entry 0 NaN: the
    first token is never scored); loss, perplexity, tokens_scored as
    attributes (also in meta)."""

    def __init__(self, handle):
        super().__init__(handle)
        self.loss = self.meta["loss"]
        self.perplexity = self.meta["perplexity"]
        self.tokens_scored = int(self.meta["tokens_scored"])


def ppl(model, prompts=None, ids=None, ood=None, repeat=None, length=None, seed=0, count=None,
        field=None, chunk=False, tokenizer=None, vocab=None, bos=False, threads=None,
        progress=True, rope_remove=None, p_rope=None, allow_long=False, ablate=None,
        head_rope_remove=None):
    """Per-prompt and overall negative log-likelihood over a prompt source
    given as for ss.scan; the numbers of `slashscope ppl` for the same
    settings."""
    if not isinstance(model, Model):
        raise Error("ppl: model must be an ss.Model, got %s" % type(model).__name__)
    spec, temp = _spec(model, prompts, ids, ood, repeat, length, seed, count, field, chunk,
                       tokenizer, vocab, bos, allow_long)
    p, keep = pass_params(threads, rope_remove, p_rope, allow_long, ablate, head_rope_remove)
    h = run_pass(model, lib.ss_run_ppl, spec, temp, p, "ppl", progress)
    del keep
    return Ppl(h)
