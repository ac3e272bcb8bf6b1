#!/usr/bin/python3
"""Prints every figure of a bench/run.sh results file next to its target
(issues #2, #4, #5, #10). Usage: report.py build/bench/results.jsonl"""
import json
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


def verdict(value, target, higher_is_better=True):
    if value is None:
        return "not measured"
    ok = value >= target if higher_is_better else value <= target
    return "MET" if ok else "missed"


def fmt(x, spec=".2f"):
    return "-" if x is None else format(x, spec)


def main():
    rows = load(sys.argv[1] if len(sys.argv) > 1 else "build/bench/results.jsonl")
    m = one(rows, bench="machine") or {}
    weights = m.get("weights_mib")
    b = m.get("blas", {})
    print(f"\nmachine: {m.get('cpu')}, {m.get('cores')} cores, load {m.get('load')} at start; "
          f"{b.get('library')} {b.get('version')} core {b.get('core')} ({b.get('selection')})")

    print("\n| target | measured | verdict |\n|---|---|---|")

    def line(what, value, target, text, higher=True):
        print(f"| {what}: {text} | {fmt(value)} | {verdict(value, target, higher)} |")

    # effective GFLOP/s of the scan against the same run's SGEMM
    for n, t in ((2048, 0.70), (8192, 0.55), (512, None)):
        r = [x for x in pick(rows, mode="scan", n=n) if "smollm2-135m-shape/hf" in x.get("model", "")]
        if r and t is not None:
            line(f"scan eff. GFLOP/s / SGEMM, N={n}", r[-1]["ratio_to_sgemm"], t,
                 f">= {t} ({r[-1]['gflops']:.1f} / {r[-1]['sgemm_gflops']:.1f} GFLOP/s)")
            if "ratio_to_sgemm_cpu" in r[-1]:
                line(f"the same per CPU second, N={n}", r[-1]["ratio_to_sgemm_cpu"], t,
                     f">= {t} ({r[-1]['gflops_per_cpu_s']:.1f} / {r[-1]['sgemm_gflops_per_cpu_s']:.1f} "
                     "GFLOP per CPU s; blind to idle cores)")
    # BF16 twin
    f32 = [x for x in pick(rows, mode="scan") if x["model"].endswith("smollm2-135m-shape/hf")]
    bf = [x for x in pick(rows, mode="scan") if "bf16" in x["model"]]
    if f32 and bf:
        same = [x for x in f32 if x["n"] == bf[-1]["n"]]
        if same:
            line(f"BF16 / F32 twin scan tokens/s, N={bf[-1]['n']}",
                 bf[-1]["tokens_per_s"] / same[-1]["tokens_per_s"], 0.95,
                 f"same efficiency, >= 0.95 ({bf[-1]['tokens_per_s']:.0f} vs "
                 f"{same[-1]['tokens_per_s']:.0f} tok/s; RSS {bf[-1]['peak_rss_mib']:.0f} vs "
                 f"{same[-1]['peak_rss_mib']:.0f} MiB)")
    # peak RSS at 8192
    s8 = one(rows, bench="scan", n=8192)
    if s8 and weights:
        line("scan peak RSS at N=8192, MiB", s8["peak_rss_mib"], weights + 512,
             f"<= weights + 512 = {weights + 512}", higher=False)
    # scan vs prefill (issue 4), rank and freq (issue 5/10)
    for n in (2048, 4096):
        s, p = one(rows, bench="scan", n=n), one(rows, bench="prefill_hidden", n=n)
        if s and p and s["seconds"] and p["seconds"]:
            line(f"scan / plain prefill time, N={n}", s["seconds"] / p["seconds"], 1.3,
                 "<= 1.3 (issue 4)", higher=False)
    for cmd, t in (("rank", 1.5), ("freq", 2.0)):
        r = [x for x in pick(rows, bench=cmd) if x.get("seconds")]
        if r:
            p = one(rows, bench="prefill_hidden", n=r[-1]["n"])
            if p and p["seconds"]:
                line(f"{cmd} / plain prefill time, N={r[-1]['n']}", r[-1]["seconds"] / p["seconds"], t,
                     f"<= {t}", higher=False)
                if r[-1].get("cpu_seconds") and p.get("cpu_seconds"):
                    line(f"the same in CPU time, N={r[-1]['n']}", r[-1]["cpu_seconds"] / p["cpu_seconds"],
                         t, f"<= {t} ({r[-1]['cpu_seconds']:.1f} vs {p['cpu_seconds']:.1f} s)", higher=False)
    # llama.cpp
    for n, t in ((512, 1.5), (2048, 2.0), (4096, 2.0), (8192, 2.0)):
        s, l = one(rows, bench="scan", n=n), one(rows, bench="llama_bench", n=n)
        if s and s["seconds"] and l and l.get("tokens_per_s"):
            line(f"scan / llama.cpp F32 prefill tokens/s, N={n}", n / s["seconds"] / l["tokens_per_s"],
                 t, f">= {t} ({n / s['seconds']:.0f} vs {l['tokens_per_s']:.0f} tok/s)")
            if s.get("cpu_seconds") and l.get("cpu_seconds"):
                # tokens per CPU second, both processes whole (load included): the
                # steadier figure on a busy machine, blind to an idle core
                line(f"the same per CPU second, N={n}", l["cpu_seconds"] / s["cpu_seconds"], t,
                     f">= {t} ({n / s['cpu_seconds']:.0f} vs {n / l['cpu_seconds']:.0f} tokens "
                     "per CPU s)")
        elif s:
            why = "llama-bench failed or was stopped" if l else "LLAMA_BENCH unset"
            print(f"| scan / llama.cpp tokens/s, N={n}: >= {t} | - | not measured ({why}) |")

    print("\nScaling (scan of all heads and offsets, one prompt, end to end):\n")
    print("| N | time | CPU time | tokens/s | peak RSS | RSS over the shortest N | per 1000 extra tokens |")
    print("|---|---|---|---|---|---|---|")
    scans = sorted((r for r in pick(rows, bench="scan") if r.get("seconds")), key=lambda x: x["n"])
    base = scans[0] if scans else None
    for r in scans:
        extra = r["peak_rss_mib"] - base["peak_rss_mib"]
        per = extra / (r["n"] - base["n"]) * 1000 if r["n"] > base["n"] else None
        print(f"| {r['n']} | {r['seconds']:.1f} s | {fmt(r.get('cpu_seconds'), '.1f')} s | {r['n'] / r['seconds']:.0f} | "
              f"{r['peak_rss_mib']:.0f} MiB | {extra:+.0f} MiB | {fmt(per, '.1f')} MiB |")
    for r in pick(rows, bench="scan"):
        if not r.get("seconds"):
            print(f"| {r['n']} | failed (exit {r.get('exit')}) | | | | | |")

    for ph in pick(rows, bench="phases"):
        total = next((x for x in ph["phases"] if x["phase"] == "total"), None)
        print(f"\nWhere the time goes: {ph['command']}, N={ph['n']} (SLASHSCOPE_TIMINGS=1; CPU of all "
              "threads; CPU/wall near 1 on 2 threads is a serial phase):\n")
        print("| phase | marks | wall | CPU | CPU/wall | share of CPU |\n|---|---|---|---|---|---|")
        for x in sorted((x for x in ph["phases"] if x["phase"] != "total"), key=lambda x: -x["cpu"]):
            if x["wall"] < 0.01 and x["cpu"] < 0.01:
                continue
            share = x["cpu"] / total["cpu"] if total and total["cpu"] else None
            print(f"| {x['phase']} | {x['marks']} | {x['wall']:.3f} s | {x['cpu']:.3f} s | "
                  f"{fmt(x['cpu'] / x['wall'] if x['wall'] else None, '.2f')} | {fmt(share, '.1%')} |")
        if total:
            print(f"| total | | {total['wall']:.3f} s | {total['cpu']:.3f} s | "
                  f"{fmt(total['cpu'] / total['wall'] if total['wall'] else None, '.2f')} | |")

    torch_rows = [r for r in rows if r.get("bench", "").startswith("torch_") and r["bench"] != "torch_agreement"]
    if torch_rows:
        print("\nPyTorch peer (materialised attention) vs slashscope scan, same prompt, 2 threads:\n")
        print("| N | peer | time | peak RSS | slashscope scan | time ratio | max abs diff of scores |")
        print("|---|---|---|---|---|---|---|")
        for r in sorted(torch_rows, key=lambda x: (x["n"], x["bench"])):
            mode = r["bench"][len("torch_"):]
            s = one(rows, bench="scan", n=r["n"])
            agree = one(rows, bench="torch_agreement", n=r["n"], mode=mode)
            if r.get("exit") or not r.get("seconds"):
                t, rss, ratio = f"failed (exit {r.get('exit')}: out of memory under the cap)", "-", "-"
            else:
                t, rss = f"{r['seconds']:.1f} s", f"{r['peak_rss_mib']:.0f} MiB"
                ratio = f"{r['seconds'] / s['seconds']:.1f}x" if s and s.get("seconds") else "-"
            sc = f"{s['seconds']:.1f} s, {s['peak_rss_mib']:.0f} MiB" if s and s.get("seconds") else "-"
            print(f"| {r['n']} | {mode} | {t} | {rss} | {sc} | {ratio} | "
                  f"{fmt(agree['max_abs_diff'] if agree else None, '.1e')} |")


if __name__ == "__main__":
    main()
