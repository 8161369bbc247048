#!/usr/bin/python3
"""Python peer of BenchmarkDriftEndToEnd: the same drift query computed with numpy/scipy.

Reads records.ndjson and reference.ndjson written by
    MODELLENS_BENCH_DIR=DIR go test ./pkg/e2e/pluginproto -run '^$' -bench DriftEndToEnd -benchtime 3x
parses the NDJSON (json.loads per line), computes per feature (DESIGN §5)
    psi  = sum((q-p)*ln(q/p)) over 10 quantile bins (interior edges at the reference's type-7
           quantiles k/10, outer bins open, v in bin i when e_i <= v < e_{i+1}; zero shares -> 1e-4)
    ks   = scipy.stats.ks_2samp(ref, cur).statistic
    js   = scipy.spatial.distance.jensenshannon(p, q)  (natural log, same bins)
    wasserstein = scipy.stats.wasserstein_distance(ref, cur)
prints the timings and compares with the plugin's answer (DIR/plugin.json).

    /usr/bin/python3 scripts/bench/drift_peer.py DIR
"""
import json
import sys
import time

import numpy as np
from scipy import stats
from scipy.spatial import distance

FEATURES = ["f1", "f2", "f3", "f4", "f5"]


def load(path):
    cols = {f: [] for f in FEATURES}
    with open(path, "rb") as fh:
        for line in fh:
            if not line.strip():
                continue
            rec = json.loads(line)
            feats = rec.get("features") or {}
            for f in FEATURES:
                v = feats.get(f)
                cols[f].append(np.nan if v is None else float(v))
    return {f: np.asarray(v, dtype=np.float64) for f, v in cols.items()}


def shares(x, edges):
    # bin i holds e_{i-1} <= v < e_i: searchsorted(side='right') gives that index.
    idx = np.searchsorted(edges, x, side="right")
    counts = np.bincount(idx, minlength=len(edges) + 1).astype(np.float64)
    return counts / counts.sum()


def drift(ref, cur, bins=10):
    ref = ref[~np.isnan(ref)]
    cur = cur[~np.isnan(cur)]
    edges = np.unique(np.percentile(ref, [100 * k / bins for k in range(1, bins)]))
    p, q = shares(ref, edges), shares(cur, edges)
    pp, qq = np.where(p == 0, 1e-4, p), np.where(q == 0, 1e-4, q)
    return {
        "psi": float(np.sum((qq - pp) * np.log(qq / pp))),
        "ks": float(stats.ks_2samp(ref, cur).statistic),
        "js": float(distance.jensenshannon(p, q)),
        "wasserstein": float(stats.wasserstein_distance(ref, cur)),
    }


def main(d):
    t0 = time.perf_counter()
    cur = load(f"{d}/records.ndjson")
    ref = load(f"{d}/reference.ndjson")
    t1 = time.perf_counter()
    out = {f: drift(ref[f], cur[f]) for f in FEATURES}
    t2 = time.perf_counter()
    print(f"python peer: parse {t1 - t0:.2f} s, statistics {t2 - t1:.2f} s, total {t2 - t0:.2f} s "
          f"({len(cur['f1'])} records, {len(ref['f1'])} reference rows)")
    try:
        plugin = json.load(open(f"{d}/plugin.json"))
    except FileNotFoundError:
        print(json.dumps(out, indent=2))
        return 0
    print(f"plugin (end to end, per query): {plugin['nsPerQuery'] / 1e9:.2f} s")
    worst = 0.0
    for f in FEATURES:
        for m, want in out[f].items():
            got = plugin["values"].get(f"feature={f}, method={m}, model=ranker")
            if got is None:
                print(f"{f} {m}: missing from the plugin's answer")
                worst = float("inf")
                continue
            rel = abs(got - want) / max(abs(want), 1e-12)
            worst = max(worst, rel)
            print(f"{f:3} {m:12} plugin {got:.10g}  scipy {want:.10g}  rel.diff {rel:.2e}")
    print(f"largest relative difference: {worst:.2e}")
    return 0 if worst < 1e-9 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "."))
