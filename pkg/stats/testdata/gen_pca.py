"""Reference values for stats.FitPCA / Reconstructor.Error / ChunkBounds (pkg/stats/pca_test.go).

Run: /usr/bin/python3 pkg/stats/testdata/gen_pca.py > pkg/stats/testdata/pca_ref.json
(Debian python3-sklearn 1.2, numpy 1.24). The exact calls:
  z = StandardScaler().fit_transform(SimpleImputer(strategy="mean").fit_transform(ref))
  pca = PCA(n_components=0.65, svd_solver="full").fit(z)
  err(x) = numpy.linalg.norm(zx - pca.inverse_transform(pca.transform(zx)), axis=1)
with zx = the current rows imputed and scaled by the reference's imputer and scaler.
"""
import json

import numpy as np
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import StandardScaler

rng = np.random.default_rng(20261204)
n, d = 400, 5
a = rng.normal(size=n)
ref = np.column_stack([a + 0.3 * rng.normal(size=n), 2 * a + rng.normal(size=n), rng.normal(size=n) * 5 + 10,
                       rng.exponential(size=n), -a + 0.5 * rng.normal(size=n)])
ref[rng.random(size=(n, d)) < 0.03] = np.nan
b = rng.normal(size=50)
cur = np.column_stack([b, rng.normal(size=50) * 2, rng.normal(size=50) * 5 + 10, rng.exponential(size=50), b])
cur[3, 1] = np.nan

imp = SimpleImputer(strategy="mean").fit(ref)
sc = StandardScaler().fit(imp.transform(ref))
z = sc.transform(imp.transform(ref))
pca = PCA(n_components=0.65, svd_solver="full").fit(z)


def err(x):
    zx = sc.transform(imp.transform(x))
    return np.linalg.norm(zx - pca.inverse_transform(pca.transform(zx)), axis=1)


chunk = 50
means = [err(ref[i:i + chunk]).mean() for i in range(0, n - n % chunk, chunk)]
m, s = float(np.mean(means)), float(np.std(means))
nan_to_none = lambda x: [[None if np.isnan(v) else float(v) for v in row] for row in x]
json.dump({"n": n, "d": d, "ref": nan_to_none(ref), "cur": nan_to_none(cur), "k": int(pca.n_components_),
           "explained": float(pca.explained_variance_ratio_.sum()), "curErr": [float(v) for v in err(cur)],
           "refErr": [float(v) for v in err(ref)], "chunk": chunk, "chunkMean": m, "chunkStd": s,
           "lower": max(0.0, m - 3 * s), "upper": m + 3 * s}, __import__("sys").stdout)
