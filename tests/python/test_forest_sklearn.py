"""Cross-check minerwatch's Go random forest (models/forest) against
scikit-learn's RandomForestClassifier.

Both are trained with matching hyper-parameters on the same folds of public
tabular data sets that ship inside scikit-learn (breast cancer; a synthetic
make_classification set, imbalanced like mining vs benign; both again with
NaN injected, which both forests handle natively), and their out-of-fold
accuracy and ROC AUC must agree within 1 percentage point.

To keep the comparison about the algorithm and not about one lucky seed,
every figure is the mean over the same stratified 5-fold split and over
SEEDS seeds for each side; each fold's test rows are never seen in training.
The Go side is the small harness models/forest/internal/forestcsv, built
once per session and fed CSV files.
"""
import os
import shutil
import subprocess

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.model_selection import StratifiedKFold

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOLERANCE = 0.01  # 1 percentage point
SEEDS = (1, 2)
TREES = 200


@pytest.fixture(scope="session")
def forestcsv(tmp_path_factory):
    if shutil.which("go") is None:
        pytest.skip("go not on PATH: cannot build models/forest/internal/forestcsv")
    exe = str(tmp_path_factory.mktemp("bin") / "forestcsv")
    subprocess.run(["go", "build", "-o", exe, "./models/forest/internal/forestcsv"],
                   cwd=REPO, check=True)
    return exe


def with_nan(X, fraction, seed):
    """Copy of X with `fraction` of the cells set to NaN, at random."""
    X = X.astype(float).copy()
    X[np.random.default_rng(seed).random(X.shape) < fraction] = np.nan
    return X


def breast_cancer():
    return load_breast_cancer(return_X_y=True)


def synthetic():
    # 15% positives, informative + redundant + noise features, 2% label noise.
    return make_classification(n_samples=3000, n_features=20, n_informative=6, n_redundant=4,
                               weights=[0.85], flip_y=0.02, class_sep=0.8, random_state=1)


DATASETS = {
    "breast_cancer": breast_cancer,
    "synthetic": synthetic,
    "breast_cancer_nan15": lambda: (with_nan(breast_cancer()[0], 0.15, 7), breast_cancer()[1]),
    "synthetic_nan10": lambda: (with_nan(synthetic()[0], 0.10, 8), synthetic()[1]),
}

# (dataset, sklearn keyword arguments, forestcsv flags). Each row states the
# same model twice; forestcsv's defaults are sklearn's (gini, sqrt, bootstrap,
# fully grown trees).
CASES = [
    ("breast_cancer", {}, []),
    ("breast_cancer", {}, ["-split", "exact", "-model", "{tmp}/model.json.gz"]),
    ("synthetic", {}, []),
    ("synthetic", {"criterion": "entropy", "class_weight": "balanced", "min_samples_leaf": 3,
                   "max_depth": 10, "max_features": 6},
     ["-criterion", "entropy", "-balanced", "-min-samples-leaf", "3", "-max-depth", "10",
      "-max-features", "6"]),
    ("breast_cancer_nan15", {}, []),
    ("synthetic_nan10", {}, []),
    ("synthetic_nan10", {}, ["-split", "exact"]),
]


def write_csv(path, X, y):
    header = ",".join(f"f{j}" for j in range(X.shape[1])) + ",label"
    np.savetxt(path, np.column_stack([X, y]), delimiter=",", header=header, comments="",
               fmt="%.17g")


def ours(exe, tmp, Xtr, ytr, Xte, seed, flags):
    train, test, out = (os.path.join(tmp, n) for n in ("train.csv", "test.csv", "proba.txt"))
    write_csv(train, Xtr, ytr)
    write_csv(test, Xte, np.zeros(len(Xte)))
    cmd = [exe, "-train", train, "-test", test, "-out", out, "-trees", str(TREES),
           "-seed", str(seed)] + [f.format(tmp=tmp) for f in flags]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return np.loadtxt(out, ndmin=1)


def sklearn(Xtr, ytr, Xte, seed, kwargs):
    rf = RandomForestClassifier(n_estimators=TREES, n_jobs=2, random_state=seed, **kwargs)
    return rf.fit(Xtr, ytr).predict_proba(Xte)[:, 1]


def scores(y, proba_by_seed):
    acc = np.mean([accuracy_score(y, p >= 0.5) for p in proba_by_seed])
    auc = np.mean([roc_auc_score(y, p) for p in proba_by_seed])
    return acc, auc


@pytest.mark.parametrize("dataset,sk_kwargs,flags", CASES,
                         ids=[f"{d}-{'-'.join(f.lstrip('-') for f in fl if not f.startswith('{'))}"
                              .rstrip("-") for d, _, fl in CASES])
def test_forest_matches_sklearn_within_one_point(forestcsv, tmp_path, dataset, sk_kwargs, flags):
    X, y = DATASETS[dataset]()
    folds = list(StratifiedKFold(n_splits=5, shuffle=True, random_state=0).split(X, y))
    go_p = {s: np.zeros(len(y)) for s in SEEDS}
    sk_p = {s: np.zeros(len(y)) for s in SEEDS}
    for train_idx, test_idx in folds:
        for s in SEEDS:
            go_p[s][test_idx] = ours(forestcsv, str(tmp_path), X[train_idx], y[train_idx],
                                     X[test_idx], s, flags)
            sk_p[s][test_idx] = sklearn(X[train_idx], y[train_idx], X[test_idx], s, sk_kwargs)
    go_acc, go_auc = scores(y, go_p.values())
    sk_acc, sk_auc = scores(y, sk_p.values())
    print(f"\n{dataset:22s} {' '.join(flags):60s} accuracy ours {go_acc:.4f} sklearn {sk_acc:.4f}"
          f" | ROC AUC ours {go_auc:.4f} sklearn {sk_auc:.4f}")
    assert abs(go_acc - sk_acc) <= TOLERANCE, (go_acc, sk_acc)
    assert abs(go_auc - sk_auc) <= TOLERANCE, (go_auc, sk_auc)
