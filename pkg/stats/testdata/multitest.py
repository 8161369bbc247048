#!/usr/bin/python3
"""Reference table for stats.AdjustBH and stats.AdjustBonferroni (multitest_test.go).

Generated with Debian's python3-statsmodels:
    /usr/bin/python3 pkg/stats/testdata/multitest.py > pkg/stats/testdata/multitest.json
Each case holds p and the adjusted p-values of
    statsmodels.stats.multitest.multipletests(p, method='fdr_bh')[1]
    statsmodels.stats.multitest.multipletests(p, method='bonferroni')[1]
"""
import json

import numpy as np
import statsmodels
from statsmodels.stats.multitest import multipletests

rng = np.random.default_rng(20261204)
cases = {
    "one": [0.03],
    "two": [0.04, 0.01],
    "ties": [0.01, 0.02, 0.02, 0.02, 0.5, 0.01, 0.9],
    "bounds": [0.0, 1.0, 0.5, 1e-300, 0.999999],
    "uniform20": rng.uniform(size=20).tolist(),
    # A drift query: 20 features x 48 windows, a few real effects among nulls.
    "mixed960": np.concatenate([rng.uniform(size=900), rng.uniform(0, 1e-3, size=60)]).tolist(),
    "small": (10.0 ** -rng.uniform(0, 12, size=50)).tolist(),
}
out = {"statsmodels": statsmodels.__version__, "cases": []}
for name, p in cases.items():
    p = np.asarray(p, dtype=float)
    out["cases"].append({
        "name": name,
        "p": p.tolist(),
        "bh": multipletests(p, method="fdr_bh")[1].tolist(),
        "bonferroni": multipletests(p, method="bonferroni")[1].tolist(),
    })
print(json.dumps(out, indent=1))
