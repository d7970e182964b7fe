#!/usr/bin/env python3
"""Time scikit-learn's RandomForestClassifier (n_jobs=2) against our Go forest
on the same data: 100k training rows x 51 features (make_classification,
10% positives, 3% label noise), 100 fully grown trees, scored on 20k held-out
rows. Prints training time, scoring time per row (batch and one row at a
time) and held-out ROC AUC for each.

Run from the repository root:  python3 tests/python/bench_forest_sklearn.py
Options: --rows N, --trees N, --nan (inject 3% NaN in 3 columns), --no-go.
Figures depend on the machine and on what else runs on it.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def make_data(rows, test_rows, features, nan):
    X, y = make_classification(
        n_samples=rows + test_rows, n_features=features, n_informative=12,
        n_redundant=4, weights=[0.9], flip_y=0.03, class_sep=0.8, random_state=0)
    if nan:
        rng = np.random.default_rng(0)
        for j in (5, 17, 30):
            X[rng.random(len(X)) < 0.03, j] = np.nan
    return X[:rows], y[:rows], X[rows:], y[rows:]


def write_csv(path, X, y):
    header = ",".join(f"f{j}" for j in range(X.shape[1])) + ",label"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header=header,
               comments="", fmt="%.17g")


def bench_sklearn(Xtr, ytr, Xte, yte, trees):
    rf = RandomForestClassifier(n_estimators=trees, n_jobs=2, random_state=0)
    t0 = time.perf_counter()
    rf.fit(Xtr, ytr)
    fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    p = rf.predict_proba(Xte)[:, 1]
    batch = (time.perf_counter() - t0) / len(Xte) * 1e9
    n_single = 200
    t0 = time.perf_counter()
    for i in range(n_single):
        rf.predict_proba(Xte[i:i + 1])
    single = (time.perf_counter() - t0) / n_single * 1e9
    nodes = sum(e.tree_.node_count for e in rf.estimators_)
    return dict(train_seconds=fit, predict_batch_ns=batch, predict_row_ns=single,
                auc=roc_auc_score(yte, p), nodes=nodes)


def bench_go(tmp, trees, split):
    exe = os.path.join(tmp, "forestcsv")
    if not os.path.exists(exe):
        subprocess.run(["go", "build", "-o", exe, "./models/forest/internal/forestcsv"],
                       cwd=REPO, check=True)
    out = os.path.join(tmp, "proba.txt")
    res = subprocess.run(
        [exe, "-train", os.path.join(tmp, "train.csv"), "-test", os.path.join(tmp, "test.csv"),
         "-out", out, "-trees", str(trees), "-workers", "2", "-split", split],
        check=True, capture_output=True, text=True)
    stats = json.loads(res.stderr.strip().splitlines()[-1])
    return stats, np.loadtxt(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--test-rows", type=int, default=20_000)
    ap.add_argument("--features", type=int, default=51)
    ap.add_argument("--trees", type=int, default=100)
    ap.add_argument("--nan", action="store_true")
    ap.add_argument("--no-go", action="store_true")
    ap.add_argument("--splits", default="histogram", help="comma-separated: histogram,exact")
    a = ap.parse_args()

    Xtr, ytr, Xte, yte = make_data(a.rows, a.test_rows, a.features, a.nan)
    print(f"data: {a.rows} x {a.features} train, {a.test_rows} test, {a.trees} trees, "
          f"nan={a.nan}, cpus={os.cpu_count()} (shared machine: figures are indicative)")
    rows = []
    sk = bench_sklearn(Xtr, ytr, Xte, yte, a.trees)
    rows.append(("scikit-learn (n_jobs=2)", sk))
    if not a.no_go and shutil.which("go"):
        with tempfile.TemporaryDirectory() as tmp:
            write_csv(os.path.join(tmp, "train.csv"), Xtr, ytr)
            write_csv(os.path.join(tmp, "test.csv"), Xte, yte)
            for split in a.splits.split(","):
                stats, p = bench_go(tmp, a.trees, split)
                stats["auc"] = roc_auc_score(yte, p)
                rows.append((f"minerwatch forest ({split}, 2 workers)", stats))
    print(f"{'model':38s} {'train s':>9s} {'batch ns/row':>13s} {'single ns/row':>14s} "
          f"{'nodes':>9s} {'test AUC':>9s}")
    for name, s in rows:
        print(f"{name:38s} {s['train_seconds']:9.2f} {s['predict_batch_ns']:13.0f} "
              f"{s['predict_row_ns']:14.0f} {s['nodes']:9d} {s['auc']:9.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
