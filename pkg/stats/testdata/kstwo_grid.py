#!/usr/bin/python3
# Run: (echo package stats; echo; /usr/bin/python3 testdata/kstwo_grid.py) > kolmogorov_grid_test.go
# Generates the (N, d, scipy.stats.kstwo.sf(d, N)) grid of kolmogorov_grid_test.go.
import math, numpy as np, scipy
from scipy.stats import kstwo
Ns = list(range(1, 24)) + [25, 30, 35, 40, 50, 64, 70, 80, 100, 120, 139, 140, 141, 142, 150, 160, 200,
      250, 300, 500, 700, 1000, 2000, 3000, 5000, 10000, 30000, 50000, 100000, 100001, 200000, 300000,
      500000, 1000000]
# The branch points of the Go implementation are z^2 = N*d^2 = 1.5, 2.2 and 4 (z = 1.2247, 1.4832, 2).
zs = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.87, 0.9, 1.0, 1.1, 1.2, 1.22, 1.2247, 1.23, 1.3,
      1.4, 1.48, 1.4832, 1.49, 1.5, 1.6, 1.7, 1.8, 1.9, 1.99, 2.0, 2.01, 2.1, 2.2, 2.3, 2.5, 2.7, 3.0,
      3.5, 4.0, 5.0]
ds = [1e-3, 0.01, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.75, 0.9, 0.99]
print("// Generated with scipy %s: for each N and d, scipy.stats.kstwo.sf(d, N) (repr)." % scipy.__version__)
print("var kstwoGrid = []struct {\n\tN    int\n\tD    float64\n\tWant float64\n}{")
for N in Ns:
    dset = sorted(set([z / math.sqrt(N) for z in zs if z / math.sqrt(N) < 1] + ds + [1.0 / N, 0.75 / N]))
    for d in dset:
        if not (0 < d < 1):
            continue
        print("\t{%d, %r, %r}," % (N, float(d), float(kstwo.sf(d, N))))
print("}")
