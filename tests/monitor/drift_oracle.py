#!/usr/bin/python3
"""Independent values for tests/monitor/drift_stats_test.cc, from scipy and numpy.

Usage: drift_oracle.py DIR. Reads DIR/<case>.a and DIR/<case>.b (one number per line)
and prints one JSON object: {case: {...values...}}.
"""
import json
import sys

import numpy as np
from scipy import stats
from scipy.spatial import distance


def load(d, name):
    return np.loadtxt(f"{d}/{name}", ndmin=1)


def psi(ref, cur, bins=10):
    edges = np.unique(np.quantile(ref, np.arange(1, bins) / bins))
    def shares(x):
        idx = np.searchsorted(edges, x, side="left")
        s = np.bincount(idx, minlength=len(edges) + 1) / len(x)
        return np.where(s == 0, 1e-4, s)
    r, c = shares(ref), shares(cur)
    return float(np.sum((c - r) * np.log(c / r)))


def bh(p):
    p = np.asarray(p)
    m = len(p)
    order = np.argsort(p)
    adj = p[order] * m / np.arange(1, m + 1)
    adj = np.minimum.accumulate(adj[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adj, 1)
    return out.tolist()


def mmd2(x, y):
    z = np.vstack([x, y])
    d2 = np.sum((z[:, None, :] - z[None, :, :]) ** 2, axis=-1)
    iu = np.triu_indices(len(z), 1)
    sigma = np.sort(np.sqrt(np.maximum(d2[iu], 0)))[len(iu[0]) // 2]
    k = np.exp(-d2 / (2 * sigma * sigma))
    n = len(x)
    return float(k[:n, :n].mean() + k[n:, n:].mean() - 2 * k[:n, n:].mean())


d = sys.argv[1]
out = {}
for case in ["ks_small", "ks_same", "ks_ties", "ks_unequal"]:
    a, b = load(d, case + ".a"), load(d, case + ".b")
    r = stats.ks_2samp(a, b, method="exact")
    out[case] = {"statistic": float(r.statistic), "p_value": float(r.pvalue)}
for case in ["ks_big_drift", "ks_big_same"]:
    a, b = load(d, case + ".a"), load(d, case + ".b")
    r = stats.ks_2samp(a, b)  # auto: asymptotic above 10,000
    out[case] = {"statistic": float(r.statistic), "p_value": float(r.pvalue)}
a, b = load(d, "num.a"), load(d, "num.b")
out["num"] = {"psi": psi(a, b), "wasserstein_norm": float(stats.wasserstein_distance(a, b) / np.std(a))}
rc, cc = load(d, "cat.a"), load(d, "cat.b")
chi = stats.chisquare(cc, rc / rc.sum() * cc.sum())
out["cat"] = {"chi2": float(chi.statistic), "p_value": float(chi.pvalue),
              "js": float(distance.jensenshannon(rc, cc, base=2))}
out["bh"] = bh(load(d, "pvalues.a"))
x = load(d, "mmd.a").reshape(-1, 8)
y = load(d, "mmd.b").reshape(-1, 8)
out["mmd"] = {"statistic": mmd2(x, y)}
print(json.dumps(out))
