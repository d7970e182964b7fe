"""The research notebooks in notebooks/ run end to end, and are committed
clean.

`make notebooks-data` writes the files they read (from ../shared/datasets
when present, else the repo's sample manifest); each notebook is then
executed with nbclient and any cell error fails the test. When ../shared is
present the notebooks also run on the samples-only export, so the small-data
path (too few groups for a grouped split) is exercised too.
"""
import glob
import os
import shutil
import subprocess

import nbformat
import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
NB_DIR = os.path.join(REPO, "notebooks")
NOTEBOOKS = sorted(glob.glob(os.path.join(NB_DIR, "*.ipynb")))
SHARED = os.environ.get("SHARED", os.path.join(REPO, "..", "shared"))
TIMEOUT = 300  # per cell, seconds


def test_there_are_notebooks():
    names = [os.path.basename(p) for p in NOTEBOOKS]
    assert names == ["01-explore-features.ipynb", "02-train-sklearn.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_committed_notebook_is_clean(path):
    """No outputs or execution counts in git: diffs stay readable and no
    data from someone's machine leaks into the repository."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert cell.get("outputs") == [], f"cell {i} has outputs: clear them (jupyter nbconvert --clear-output --inplace)"
        assert cell.get("execution_count") is None, f"cell {i} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_first_cell_says_what_it_needs(path):
    first = nbformat.read(path, as_version=4).cells[0]
    assert first.cell_type == "markdown"
    for needed in ("requirements.txt", "make notebooks-data", "make notebooks"):
        assert needed in first.source, f"first cell does not mention {needed!r}"


def make_data(**overrides):
    if shutil.which("make") is None or shutil.which("go") is None:
        pytest.skip("make and go are needed to export the notebooks' data")
    args = ["make", "-s", "notebooks-data"] + [f"{k}={v}" for k, v in overrides.items()]
    subprocess.run(args, cwd=REPO, check=True, capture_output=True)


@pytest.fixture(scope="module")
def default_data():
    make_data()
    return os.path.join(NB_DIR, "data")


@pytest.fixture(scope="module")
def samples_data(tmp_path_factory):
    if not os.path.isdir(os.path.join(SHARED, "datasets")):
        pytest.skip("../shared/datasets absent: the default run already used the samples")
    d = tmp_path_factory.mktemp("nbdata")
    make_data(SHARED="/nonexistent", NB_DATA=str(d))
    return str(d)


def execute(path, data_dir):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    env_before = os.environ.get("MINERWATCH_NB_DATA")
    os.environ["MINERWATCH_NB_DATA"] = data_dir  # the kernel inherits it
    try:
        NotebookClient(nb, timeout=TIMEOUT, kernel_name="python3",
                       resources={"metadata": {"path": NB_DIR}}).execute()
    except CellExecutionError as e:
        pytest.fail(f"{os.path.basename(path)} failed on {data_dir}:\n{e}")
    finally:
        if env_before is None:
            os.environ.pop("MINERWATCH_NB_DATA", None)
        else:
            os.environ["MINERWATCH_NB_DATA"] = env_before
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, errors
    return nb


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_runs(path, default_data):
    nb = execute(path, default_data)
    # The executed copy is kept (git-ignored) for a look at the figures.
    out = os.path.join(default_data, "executed")
    os.makedirs(out, exist_ok=True)
    nbformat.write(nb, os.path.join(out, os.path.basename(path)))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=os.path.basename)
def test_notebook_runs_on_samples_only(path, samples_data):
    execute(path, samples_data)
