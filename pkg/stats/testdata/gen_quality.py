#!/usr/bin/python3
# Run (from pkg/stats): /usr/bin/python3 testdata/gen_quality.py > testdata/quality_reference.json
# Generates the model-quality reference table that quality_reference_test.go reads: random data
# (numpy RandomState, fixed seeds) and the values scikit-learn computes on it. Every value's exact
# call is written here; the Go test compares at 1e-9 relative. CI never runs this script.
import json, sys
import numpy as np
import sklearn
from sklearn.metrics import (accuracy_score, precision_recall_fscore_support, roc_auc_score, log_loss,
                             brier_score_loss, mean_absolute_error, mean_squared_error,
                             mean_absolute_percentage_error, r2_score)
from sklearn.calibration import calibration_curve
from sklearn.isotonic import IsotonicRegression

def fl(a): return [float(v) for v in a]

def ece(y, p):
    # DESIGN §5: sum over 10 equal-width bins of (n_b/n)*|mean(y_b) - mean(p_b)|, binned exactly as
    # calibration_curve(strategy='uniform') bins (same edges, same searchsorted); the counts n_b
    # are numpy.bincount of those bin ids.
    prob_true, prob_pred = calibration_curve(y, p, n_bins=10, strategy='uniform')
    bins = np.linspace(0.0, 1.0, 11)
    n_b = np.bincount(np.searchsorted(bins[1:-1], p), minlength=11)
    n_b = n_b[n_b != 0]
    return float(np.sum(n_b / len(p) * np.abs(prob_true - prob_pred)))

def classification(y, yhat):
    out = {"y": list(y), "yhat": list(yhat), "accuracy": float(accuracy_score(y, yhat))}  # accuracy_score(y, yhat)
    labels = sorted(set(y) | set(yhat))
    # precision_recall_fscore_support(y, yhat, labels=labels, average=None, zero_division=0)
    p, r, f, s = precision_recall_fscore_support(y, yhat, labels=labels, average=None, zero_division=0)
    out["classes"] = labels
    out["perClass"] = {"precision": fl(p), "recall": fl(r), "f1": fl(f), "support": fl(s)}
    for avg in ["macro", "weighted"]:
        # precision_recall_fscore_support(y, yhat, average=avg, zero_division=0)
        p, r, f, _ = precision_recall_fscore_support(y, yhat, average=avg, zero_division=0)
        out[avg] = {"precision": float(p), "recall": float(r), "f1": float(f)}
    return out

def binary(seed, n, decimals):
    rs = np.random.RandomState(seed)
    p = np.round(rs.beta(0.6, 2.0, n), decimals)   # rounding makes ties
    p[:3] = [0.0, 1.0, 0.5]                         # clipping in log_loss, an edge in ece
    y01 = (rs.uniform(size=n) < p).astype(int)
    y01[3], y01[4] = 1, 0
    y = np.where(y01 == 1, "fraud", "legit")
    yhat = np.where(p >= 0.5, "fraud", "legit")
    out = classification(list(y), list(yhat))
    out["p"] = fl(p)
    out["positive"] = "fraud"
    # precision_recall_fscore_support(y, yhat, average='binary', pos_label='fraud', zero_division=0)
    pb, rb, fb, _ = precision_recall_fscore_support(y, yhat, average="binary", pos_label="fraud", zero_division=0)
    out["binary"] = {"precision": float(pb), "recall": float(rb), "f1": float(fb)}
    out["roc_auc"] = float(roc_auc_score(y01, p))            # roc_auc_score(y == 'fraud', p)
    out["log_loss"] = float(log_loss(y01, p, eps=1e-15))     # log_loss(y == 'fraud', p, eps=1e-15)
    out["brier"] = float(brier_score_loss(y01, p))           # brier_score_loss(y == 'fraud', p)
    out["ece"] = ece(y01, p)                                  # see ece() above
    # IsotonicRegression(out_of_bounds='clip').fit(p, y01).predict(grid)
    iso = IsotonicRegression(out_of_bounds="clip").fit(p, y01)
    grid = np.concatenate([[-0.5, 0.0, 1.0, 1.5], np.linspace(0.0, 1.0, 41), p[:20]])
    out["isotonic"] = {"x": fl(grid), "y": fl(iso.predict(grid))}
    return out

def multiclass(seed, n):
    rs = np.random.RandomState(seed)
    classes = np.array(["stay", "downgrade", "churn"])
    y = classes[rs.choice(3, n, p=[0.6, 0.25, 0.15])]
    yhat = y.copy()
    flip = rs.uniform(size=n) < 0.35
    yhat[flip] = classes[rs.choice(3, flip.sum(), p=[0.7, 0.3, 0.0])]
    yhat[:2] = "unknown"   # a class that is only ever predicted
    return classification(list(y), list(yhat))

def regression(seed, n, constant=False, zeros=False):
    rs = np.random.RandomState(seed)
    y = rs.normal(300000, 80000, n).round()
    if constant:
        y[:] = 250000.0
    if zeros:
        y[:5] = 0.0
    yhat = (y + rs.normal(5000, 20000, n)).round()
    return {"y": fl(y), "yhat": fl(yhat),
            "mae": float(mean_absolute_error(y, yhat)),                  # mean_absolute_error(y, yhat)
            "rmse": float(mean_squared_error(y, yhat, squared=False)),   # mean_squared_error(y, yhat, squared=False)
            "mape": float(mean_absolute_percentage_error(y, yhat)),      # mean_absolute_percentage_error(y, yhat)
            "r2": float(r2_score(y, yhat)),                              # r2_score(y, yhat)
            "bias": float(np.mean(yhat - y))}                            # numpy.mean(yhat - y)

table = {
    "generator": "numpy %s, scikit-learn %s" % (np.__version__, sklearn.__version__),
    "binary": {"b500": binary(1, 500, 2), "b2000": binary(2, 2000, 4), "b60": binary(3, 60, 1)},
    "multiclass": {"m400": multiclass(4, 400), "m37": multiclass(5, 37)},
    "regression": {"r300": regression(6, 300), "r50zeros": regression(7, 50, zeros=True)},
}
c = regression(8, 20, constant=True)
c["yhat"] = list(c["y"]); c["r2"] = float(r2_score(c["y"], c["yhat"])); c["mae"] = 0.0; c["rmse"] = 0.0; c["mape"] = 0.0; c["bias"] = 0.0
table["regression"]["constantExact"] = c                        # r2_score of a constant truth predicted exactly: 1.0
table["regression"]["constant"] = regression(8, 20, constant=True)  # r2_score of a constant truth otherwise: 0.0
json.dump(table, sys.stdout, indent=None, separators=(",", ":"))
sys.stdout.write("\n")
