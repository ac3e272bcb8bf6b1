#!/usr/bin/python3
"""Prints every figure of a bench/run.sh results file next to its target
(issues #2, #4, #5, #10). Usage: report.py build/bench/results.jsonl

The issue's ratios come from pairs of runs made back to back (run.sh's
pairs(), the order alternating): each pair gives one ratio, and a figure is
the median of its pairs' ratios, printed with their min and max; "met" means
the median meets the target. A figure that was not measured says why."""
import json
import statistics
import sys


def load(path):
    rows = []
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return rows


def pick(rows, **kw):
    return [r for r in rows if all(r.get(k) == v for k, v in kw.items())]


def one(rows, **kw):
    r = pick(rows, **kw)
    return r[-1] if r else None


def fmt(x, spec=".2f"):
    return "-" if x is None else format(x, spec)


def ok(run):
    """A run that finished and was timed."""
    return run is not None and not run.get("exit") and run.get("seconds") is not None


def meets(value, target, higher):
    return value >= target if higher else value <= target


def failure(run, name):
    return f"{name} failed (exit {run.get('exit')})" if run.get("exit") else f"{name} was not timed"


class Figure:
    """One figure: the per-pair values it was taken from, or why there are none."""

    def __init__(self, what, target, higher=True, n=None, target_n=None, unit="pair"):
        self.what, self.target, self.higher = what, target, higher
        self.n, self.target_n, self.unit = n, target_n, unit
        self.values, self.problems, self.why, self.detail = [], [], None, ""

    def verdict(self):
        if not self.values:
            return "not measured (" + (self.why or "; ".join(self.problems) or "no run recorded") + ")"
        if self.target is None or (self.target_n is not None and self.n != self.target_n):
            where = f"the target is at N={self.target_n}" if self.target_n else "no target"
            return f"not comparable (N={self.n}; {where})"
        med = statistics.median(self.values)
        met = sum(meets(v, self.target, self.higher) for v in self.values)
        pairs = f"{met} of {len(self.values)} {self.unit}{'' if len(self.values) == 1 else 's'} met"
        extra = f"; {'; '.join(self.problems)}" if self.problems else ""
        return ("MET" if meets(med, self.target, self.higher) else "missed") + f" ({pairs}{extra})"

    def line(self):
        med = statistics.median(self.values) if self.values else None
        span = (f"{min(self.values):.2f}-{max(self.values):.2f}" if len(self.values) > 1 else
                fmt(med))
        op = ">=" if self.higher else "<="
        target = "-" if self.target is None else f"{op} {self.target}"
        return (f"| {self.what}{self.detail} | {target} | {fmt(med)} | {span} | {len(self.values)} | "
                f"{self.verdict()} |")


def guarded(value, *runs):
    """value(*runs), or None when a run lacks a field it needs."""
    try:
        return value(*runs)
    except (KeyError, TypeError, ZeroDivisionError):
        return None


def paired(fig, rows, figure, a, b, value, side="bench"):
    """Fills fig from the pairs of `figure` at fig.n: value(run_a, run_b) per pair
    where both runs finished; a run is side a or b by its field `side`."""
    runs = pick(rows, figure=figure, n=fig.n)
    for k in sorted({r.get("pair") for r in runs}, key=lambda k: (k is None, k)):
        ra, rb = one(runs, pair=k, **{side: a}), one(runs, pair=k, **{side: b})
        bad = [failure(r, name) if r else f"{name} missing" for r, name in ((ra, a), (rb, b))
               if not ok(r)]
        v = None if bad else guarded(value, ra, rb)
        if v is None:
            fig.problems.append(f"pair {k}: " + (", ".join(bad) or "a figure missing from its runs"))
        else:
            fig.values.append(v)
    return runs


def single(fig, rows, figure, value, name):
    """Fills fig from single runs of `figure` at fig.n that time themselves (bench_prefill)."""
    runs = pick(rows, figure=figure, n=fig.n)
    for r in runs:
        v = guarded(value, r) if ok(r) else None
        if v is None:
            fig.problems.append(f"run {r.get('pair')}: " + (failure(r, name) if not ok(r) else
                                                            "a figure missing"))
        else:
            fig.values.append(v)
    return runs


def median_of(runs, key):
    xs = [r[key] for r in runs if ok(r) and r.get(key) is not None]
    return statistics.median(xs) if xs else None


def llama_figures(rows, cfg):
    figs = []
    lens = cfg.get("lens_llama") or []
    for n, t in ((512, 1.5), (2048, 2.0), (4096, 2.0), (8192, 2.0)):
        whole = Figure(f"scan / llama.cpp F32 prefill tokens/s, N={n}", t, n=n)
        alone = Figure(f"the same, the scan alone (scan.json's time, as llama-bench's pp), N={n}", t,
                       n=n)
        cpu = Figure(f"the same per CPU second, both whole processes, N={n}", t, n=n)
        if not cfg.get("llama_bench"):
            why = "LLAMA_BENCH unset"
        elif n not in lens:
            why = f"not run at N={n}" + (" (BENCH_QUICK)" if cfg.get("quick") else "")
        else:
            why = None
        for f in (whole, alone, cpu):
            f.why = why
        if why is None:
            tps = lambda s, l: l.get("tokens_per_s")
            runs = paired(whole, rows, "scan_llama", "scan", "llama_bench",
                          lambda s, l: n / s["seconds"] / tps(s, l) if tps(s, l) else None)
            paired(alone, rows, "scan_llama", "scan", "llama_bench",
                   lambda s, l: n / s["scan_seconds"] / tps(s, l)
                   if tps(s, l) and s.get("scan_seconds") else None)
            paired(cpu, rows, "scan_llama", "scan", "llama_bench",
                   lambda s, l: l["cpu_seconds"] / s["cpu_seconds"]
                   if s.get("cpu_seconds") and l.get("cpu_seconds") else None)
            scan_s = median_of(pick(runs, bench="scan"), "seconds")
            llama_ts = median_of(pick(runs, bench="llama_bench"), "tokens_per_s")
            if scan_s and llama_ts:
                whole.detail = f" (medians {n / scan_s:.0f} vs {llama_ts:.0f} tok/s)"
        # a figure not measured at all is one line, not three
        figs += [whole, alone, cpu] if why is None else [whole]
    return figs


def gflops_figures(rows, cfg):
    figs = []
    for n in cfg.get("lens_gflops") or [2048, 8192]:
        t = {2048: 0.70, 8192: 0.55}.get(n)
        wall = Figure(f"scan eff. GFLOP/s / same run's SGEMM, N={n}", t, n=n, unit="run")
        runs = single(wall, rows, "gflops", lambda r: r.get("ratio_to_sgemm"), "bench_prefill scan")
        g, sg = median_of(runs, "gflops"), median_of(runs, "sgemm_gflops")
        if g and sg:
            wall.detail = f" (medians {g:.1f} / {sg:.1f} GFLOP/s)"
        cpu = Figure(f"the same per CPU second (blind to idle cores), N={n}", t, n=n, unit="run")
        single(cpu, rows, "gflops", lambda r: r.get("ratio_to_sgemm_cpu"), "bench_prefill scan")
        figs += [wall, cpu]
    for n, t in ((2048, 0.70), (8192, 0.55)):
        if n not in (cfg.get("lens_gflops") or [2048, 8192]):
            f = Figure(f"scan eff. GFLOP/s / same run's SGEMM, N={n}", t, n=n)
            f.why = f"not run at N={n}" + (" (BENCH_QUICK)" if cfg.get("quick") else "")
            figs.append(f)
    return figs


def explain_figures(rows, cfg):
    n = cfg.get("len_explain", 4096)
    figs = []
    for cmd, t in (("rank", 1.5), ("freq", 2.0)):
        wall = Figure(f"{cmd} / plain prefill time", t, higher=False, n=n, target_n=4096)
        runs = paired(wall, rows, f"{cmd}_prefill", cmd, "prefill_hidden",
                      lambda a, p: a["seconds"] / p["seconds"] if p["seconds"] else None)
        a, p = median_of(pick(runs, bench=cmd), "seconds"), median_of(pick(runs, bench="prefill_hidden"),
                                                                      "seconds")
        wall.detail = f", N={n}" + (f" (medians {a:.1f} vs {p:.1f} s)" if a and p else "")
        cpu = Figure(f"the same in CPU time, N={n}", t, higher=False, n=n, target_n=4096)
        paired(cpu, rows, f"{cmd}_prefill", cmd, "prefill_hidden",
               lambda a, p: a["cpu_seconds"] / p["cpu_seconds"]
               if a.get("cpu_seconds") and p.get("cpu_seconds") else None)
        figs += [wall, cpu]
    return figs


def twin_figure(rows, cfg):
    """BF16 / F32 tokens/s of bench_prefill's scan, per pair of the twins (runs
    tagged "dtype")."""
    n = cfg.get("len_bf16")
    if n is None:  # a results file without it: the length the twins ran at
        n = next((r.get("n") for r in pick(rows, figure="bf16_twin")), None)
    fig = Figure("BF16 / F32 twin scan tokens/s (same efficiency)", 0.95, n=n)
    runs = paired(fig, rows, "bf16_twin", "f32", "bf16",
                  lambda a, b: b["tokens_per_s"] / a["tokens_per_s"], side="dtype")
    if not runs:
        fig.why = "no BF16 twin run recorded"
    a, b = (pick(runs, dtype=d) for d in ("f32", "bf16"))
    ta, tb = median_of(a, "tokens_per_s"), median_of(b, "tokens_per_s")
    ra, rb = median_of(a, "peak_rss_mib"), median_of(b, "peak_rss_mib")
    medians = (f" (medians {tb:.0f} vs {ta:.0f} tok/s; RSS {fmt(rb, '.0f')} vs {fmt(ra, '.0f')} MiB)"
               if ta and tb else "")
    fig.detail = (f", N={n}" if n is not None else "") + medians
    return fig


def single_figures(rows, weights, quick):
    """The figures of single runs (as before the pairs): peak RSS, scan / prefill."""
    figs = []
    s8 = [r for r in pick(rows, bench="scan", n=8192) if ok(r) and r.get("peak_rss_mib")]
    fig = Figure("scan peak RSS at N=8192, MiB", weights + 512 if weights else None, higher=False,
                 unit="run")
    if s8:
        fig.values = [max(r["peak_rss_mib"] for r in s8)]
        fig.detail = f" (the largest of {len(s8)} scans; weights {weights} MiB + 512)"
    else:
        fig.why = "no finished scan of 8192 tokens (BENCH_QUICK or BENCH_SCALING)"
    figs.append(fig)

    for n in (2048, 4096):
        fig = Figure(f"scan / plain prefill time, N={n} (issue 4; one run each)", 1.3, higher=False,
                     unit="run")
        s = [r for r in pick(rows, bench="scan", n=n) if "figure" not in r]
        p = [r for r in pick(rows, bench="prefill_hidden", n=n) if "figure" not in r]
        if s and p and ok(s[-1]) and ok(p[-1]) and p[-1]["seconds"]:
            fig.values = [s[-1]["seconds"] / p[-1]["seconds"]]
        else:
            fig.why = f"no finished scan and prefill of {n} tokens" + (" (BENCH_QUICK)" if quick else "")
        figs.append(fig)
    return figs


def print_machine(rows, m):
    b = m.get("blas") or {}
    print(f"\nmachine: {m.get('cpu')}, {m.get('cores')} cores, load {m.get('load')} at start; "
          f"{b.get('library')} {b.get('version')} core {b.get('core')} ({b.get('selection')})")
    cfg = m.get("config") or {}
    if cfg:
        print(f"model {cfg.get('model')}; {cfg.get('repeat')} pair(s) per ratio"
              f"{' (BENCH_QUICK)' if cfg.get('quick') else ''}")
    llama = pick(rows, bench="llama_bench")
    commits = sorted({str(r.get("build_commit")) for r in llama if r.get("build_commit")})
    if cfg.get("llama_bench") or llama:
        built = (f"build {', '.join(commits)}" if commits else "build unknown (no JSON from llama-bench)")
        note = "" if commits == ["c392e50"] else " (the issue's target names c392e50)"
        print(f"llama.cpp: {cfg.get('llama_bench') or 'llama-bench'}, {built}{note}")
    loads = [r["load"] for r in rows if "figure" in r and isinstance(r.get("load"), (int, float))]
    if loads:
        print(f"1-minute load average at the start of the paired runs: {min(loads):.2f}-{max(loads):.2f}")


def print_targets(rows, m):
    cfg = m.get("config") or {}
    print("\nEach ratio is the median over its pairs (two runs back to back, the order alternating "
          "from pair to pair); min-max across the pairs; the verdict is the median's.\n")
    print("| figure | target | median | min-max | pairs | verdict |\n|---|---|---|---|---|---|")
    figs = (gflops_figures(rows, cfg) + llama_figures(rows, cfg) + explain_figures(rows, cfg) +
            [twin_figure(rows, cfg)] + single_figures(rows, m.get("weights_mib"), cfg.get("quick")))
    for f in figs:
        print(f.line())


def print_scaling(rows):
    print("\nScaling (scan of all heads and offsets, one prompt, end to end):\n")
    print("| N | time | CPU time | tokens/s | peak RSS | RSS over the shortest N | per 1000 extra tokens |")
    print("|---|---|---|---|---|---|---|")
    table = [r for r in pick(rows, bench="scan") if "figure" not in r]
    scans = sorted((r for r in table if ok(r) and r.get("peak_rss_mib") is not None),
                   key=lambda x: x["n"])
    base = scans[0] if scans else None
    for r in scans:
        extra = r["peak_rss_mib"] - base["peak_rss_mib"]
        per = extra / (r["n"] - base["n"]) * 1000 if r["n"] > base["n"] else None
        print(f"| {r['n']} | {r['seconds']:.1f} s | {fmt(r.get('cpu_seconds'), '.1f')} s | "
              f"{r['n'] / r['seconds']:.0f} | {r['peak_rss_mib']:.0f} MiB | {extra:+.0f} MiB | "
              f"{fmt(per, '.1f')} MiB |")
    for r in table:
        if r not in scans:
            print(f"| {r.get('n')} | failed (exit {r.get('exit')}) | | | | | |")
    if not table:
        print("| - | not measured (no scan of the scaling table recorded) | | | | | |")


def print_phases(rows):
    for ph in pick(rows, bench="phases"):
        phases = ph.get("phases") or []
        total = next((x for x in phases if x["phase"] == "total"), None)
        print(f"\nWhere the time goes: {ph.get('command')}, N={ph.get('n')} (SLASHSCOPE_TIMINGS=1; CPU "
              "of all threads; CPU/wall near 1 on 2 threads is a serial phase):\n")
        if not phases:
            print("not measured (the command printed no timings table: it failed)")
            continue
        print("| phase | marks | wall | CPU | CPU/wall | share of CPU |\n|---|---|---|---|---|---|")
        for x in sorted((x for x in phases if x["phase"] != "total"), key=lambda x: -x["cpu"]):
            if x["wall"] < 0.01 and x["cpu"] < 0.01:
                continue
            share = x["cpu"] / total["cpu"] if total and total["cpu"] else None
            print(f"| {x['phase']} | {x['marks']} | {x['wall']:.3f} s | {x['cpu']:.3f} s | "
                  f"{fmt(x['cpu'] / x['wall'] if x['wall'] else None, '.2f')} | {fmt(share, '.1%')} |")
        if total:
            print(f"| total | | {total['wall']:.3f} s | {total['cpu']:.3f} s | "
                  f"{fmt(total['cpu'] / total['wall'] if total['wall'] else None, '.2f')} | |")


def print_torch(rows, m):
    torch_rows = [r for r in rows if r.get("bench", "").startswith("torch_") and r["bench"] != "torch_agreement"]
    if not torch_rows:
        cfg = m.get("config") or {}
        why = "BENCH_TORCH=0" if cfg.get("torch") is False else "python3-torch missing or not run"
        print(f"\nPyTorch peer: not measured ({why})")
        return
    print("\nPyTorch peer (materialised attention) vs slashscope scan, same prompt, 2 threads:\n")
    print("| N | peer | time | peak RSS | slashscope scan | time ratio | max abs diff of scores |")
    print("|---|---|---|---|---|---|---|")
    for r in sorted(torch_rows, key=lambda x: (x["n"], x["bench"])):
        mode = r["bench"][len("torch_"):]
        s = next((x for x in reversed(pick(rows, bench="scan", n=r["n"])) if "figure" not in x), None)
        agree = one(rows, bench="torch_agreement", n=r["n"], mode=mode)
        if not ok(r):
            t, rss, ratio = f"failed (exit {r.get('exit')}: out of memory under the cap)", "-", "-"
        else:
            t, rss = f"{r['seconds']:.1f} s", f"{r['peak_rss_mib']:.0f} MiB"
            ratio = f"{r['seconds'] / s['seconds']:.1f}x" if ok(s) else "-"
        sc = f"{s['seconds']:.1f} s, {s['peak_rss_mib']:.0f} MiB" if ok(s) else "-"
        print(f"| {r['n']} | {mode} | {t} | {rss} | {sc} | {ratio} | "
              f"{fmt(agree['max_abs_diff'] if agree else None, '.1e')} |")


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "build/bench/results.jsonl"
    try:
        rows = load(path)
    except OSError as e:
        sys.exit(f"report.py: cannot read the results file {path}: {e.strerror} "
                 "(expected bench/run.sh's results.jsonl)")
    m = one(rows, bench="machine") or {}
    print_machine(rows, m)
    print_targets(rows, m)
    print_scaling(rows)
    print_phases(rows)
    print_torch(rows, m)


if __name__ == "__main__":
    main()
