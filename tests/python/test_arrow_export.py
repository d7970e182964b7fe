"""Read minerwatch's feature exports (Arrow IPC file, Arrow stream, Parquet)
the way researchers do — pyarrow and pandas — and check them against the Go
side.

The input is the repo's sample manifest (datasets/manifest.tsv: four lab
captures, one flow each), so the test needs nothing outside the repository.
Expected values come from `minerwatch flows` on the same captures (its
per-flow packet and byte counts, start and duration), from hashlib for the
inputs' SHA-256, and from the manifest for labels and scenarios.
"""
import hashlib
import json
import math
import os
import subprocess

import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq
import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(REPO, "bin", "minerwatch")
MANIFEST = os.path.join(REPO, "datasets", "manifest.tsv")

FIXED = {  # column -> Arrow type, in file order before the features
    "flow_id": pa.uint64(), "capture": pa.string(), "group": pa.string(),
    "src_ip": pa.string(), "src_port": pa.uint16(), "dest_ip": pa.string(), "dest_port": pa.uint16(),
    "proto": pa.uint8(), "vlan": pa.uint16(), "flow_first": pa.timestamp("us", tz="UTC"),
    "window_kind": pa.string(), "checkpoint_s": pa.float64(), "window_index": pa.int32(),
    "window_start": pa.timestamp("us", tz="UTC"), "window_end": pa.timestamp("us", tz="UTC"),
    "first_ts": pa.timestamp("us", tz="UTC"), "last_ts": pa.timestamp("us", tz="UTC"),
    "pkts_up": pa.uint64(), "pkts_down": pa.uint64(), "ip_bytes_up": pa.uint64(), "ip_bytes_down": pa.uint64(),
}
LABELS = ["scenario", "label", "label_source"]
STAGES = {  # TLS metadata and the stages' verdicts, nullable, after the labels
    "tls_sni": pa.string(), "tls_ja3_hash": pa.string(), "tls_ja4": pa.string(),
    "signature_state": pa.string(), "signature_dialect": pa.string(), "intel_match": pa.string(),
    "model_score": pa.float32(),
}
TAIL = len(LABELS) + len(STAGES)  # columns after the features


def manifest_entries():
    out = []
    with open(MANIFEST) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            path, label, _, scenario, *_ = line.rstrip("\n").split("\t")
            out.append({"path": path, "label": label, "scenario": "" if scenario == "-" else scenario})
    return out


def minerwatch(*args, **kw):
    return subprocess.run([BIN, *args], cwd=REPO, check=True, capture_output=True, **kw)


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    if not os.path.exists(BIN):
        pytest.skip("bin/minerwatch missing: run `make build` (make test-python does)")
    d = tmp_path_factory.mktemp("export")
    paths = {}
    for name, extra in [("all.arrow", []), ("all.parquet", []), ("train.arrow", ["--train-rows"])]:
        paths[name] = str(d / name)
        minerwatch("features", "--manifest", MANIFEST, "-o", paths[name], *extra)
    paths["stream"] = minerwatch("features", "--manifest", MANIFEST, "-o", "-").stdout
    return paths


@pytest.fixture(scope="module")
def table(exports):
    with pa.memory_map(exports["all.arrow"]) as src:
        return pa.ipc.open_file(src).read_all()


def go_flows():
    """Per-flow records from `minerwatch flows`, keyed by capture path."""
    out = {}
    for e in manifest_entries():
        text = minerwatch("flows", "-r", os.path.join("datasets", e["path"]), text=True).stdout
        lines = [l.split() for l in text.splitlines()[1:] if l.strip()]
        out[e["path"]] = [{
            "flow_id": int(f[0]), "proto": f[1], "client": f[2], "server": f[4],
            "pkts_up": int(f[5]), "bytes_up": int(f[6]), "pkts_down": int(f[7]), "bytes_down": int(f[8]),
            "start": pd.Timestamp(f[9]), "duration_s": float(f[10]),
        } for f in lines]
    return out


def test_schema_types(table):
    names = table.schema.names
    assert names[:len(FIXED)] == list(FIXED)
    assert names[-TAIL:] == LABELS + list(STAGES)
    for name, typ in STAGES.items():
        assert table.schema.field(name).type == typ and table.schema.field(name).nullable, name
    for name, typ in FIXED.items():
        assert table.schema.field(name).type == typ, name
    features = names[len(FIXED):-TAIL]
    assert features, "no feature columns"
    for name in features:
        assert table.schema.field(name).type == pa.float64(), name


def test_metadata(table):
    md = {k.decode(): v.decode() for k, v in table.schema.metadata.items()}
    assert md["minerwatch.schema_version"] == "2"
    assert md["minerwatch.undefined"] == "null"
    assert md["minerwatch.version"]
    sets = json.loads(md["minerwatch.feature_sets"])
    assert sets == ["mw51", "mwx", "seq", "netflow8", "decrypto12"]
    assert set(json.loads(md["minerwatch.feature_set_versions"])) == set(sets)
    feature_table = json.loads(md["minerwatch.feature_table"])
    assert [f["name"] for f in feature_table] == table.schema.names[len(FIXED):-TAIL]
    assert json.loads(md["minerwatch.label_sources"]) == ["manifest", "signature"]
    # --manifest defaults to train's checkpoint schedule (flowfeat.ModelCheckpoints).
    assert md["minerwatch.checkpoints"] == "60,120,300,+300"
    assert json.loads(md["minerwatch.flow_table"])["IdleTCP"] > 0
    assert json.loads(md["minerwatch.manifest"])["path"] == "manifest.tsv"
    # Inputs are named as the manifest names them, with the files' real hashes.
    inputs = json.loads(md["minerwatch.inputs"])
    assert [i["path"] for i in inputs] == [e["path"] for e in manifest_entries()]
    for i in inputs:
        with open(os.path.join(REPO, "datasets", i["path"]), "rb") as f:
            data = f.read()
        assert i["sha256"] == hashlib.sha256(data).hexdigest()
        assert i["bytes"] == len(data)
    # Every column explains itself.
    for field in table.schema:
        fm = {k.decode(): v.decode() for k, v in (field.metadata or {}).items()}
        assert fm.get("definition"), f"{field.name} has no definition"
        assert "unit" in fm, f"{field.name} has no unit"
    assert table.schema.field("up_iat_mean").metadata[b"unit"] == b"s"
    assert table.schema.field("up_iat_mean").metadata[b"set"] == b"mw51"
    for name in table.schema.names[len(FIXED):-TAIL]:
        field = table.schema.field(name)
        assert field.nullable and field.metadata[b"minerwatch.undefined"] == b"null", name


def test_rows_match_minerwatch_flows(table):
    """Each flow's end row carries what `minerwatch flows` reports for it."""
    df = table.to_pandas()
    flows = go_flows()
    ends = df[df["window_kind"] == "end"]
    assert len(ends) == sum(len(v) for v in flows.values())
    labels = {e["path"]: e for e in manifest_entries()}
    for capture, recs in flows.items():
        for rec in recs:
            row = ends[(ends["capture"] == capture) & (ends["flow_id"] == rec["flow_id"])]
            assert len(row) == 1, (capture, rec["flow_id"])
            row = row.iloc[0]
            assert f"{row['src_ip']}:{row['src_port']}" == rec["client"]
            assert f"{row['dest_ip']}:{row['dest_port']}" == rec["server"]
            assert row["proto"] == {"tcp": 6, "udp": 17}[rec["proto"]]
            assert (row["pkts_up"], row["pkts_down"]) == (rec["pkts_up"], rec["pkts_down"])
            assert (row["ip_bytes_up"], row["ip_bytes_down"]) == (rec["bytes_up"], rec["bytes_down"])
            assert row["flow_first"] == rec["start"]
            assert (row["last_ts"] - row["flow_first"]).total_seconds() == pytest.approx(rec["duration_s"], abs=1e-3)
            # The manifest labels every flow of these captures ("*").
            want = labels[capture]
            assert row["label"] == want["label"] and row["label_source"] == "manifest"
            assert row["scenario"] == (want["scenario"] if want["label"] == "mining" else "")
            assert row["group"] == os.path.splitext(os.path.basename(capture))[0]
    # Checkpoint rows are cumulative: never more packets than the whole flow.
    cps = df[df["window_kind"] == "checkpoint"].merge(
        ends[["capture", "flow_id", "pkts_up"]], on=["capture", "flow_id"], suffixes=("", "_end"))
    assert (cps["pkts_up"] <= cps["pkts_up_end"]).all()
    assert set(cps["checkpoint_s"]) >= {60.0, 120.0, 300.0}
    assert 30.0 not in set(cps["checkpoint_s"])


def test_parquet_and_stream_hold_the_same_rows(exports, table):
    want = table.to_pandas()
    pt = pq.read_table(exports["all.parquet"])
    assert pt.schema.equals(table.schema, check_metadata=False)
    for key in [b"minerwatch.inputs", b"minerwatch.feature_table", b"minerwatch.checkpoints"]:
        assert pt.schema.metadata[key] == table.schema.metadata[key]
    assert pt.schema.field("resp_share").metadata == table.schema.field("resp_share").metadata
    pd.testing.assert_frame_equal(pt.to_pandas(), want)  # NaN == NaN here
    pd.testing.assert_frame_equal(pd.read_parquet(exports["all.parquet"]), want)
    st = pa.ipc.open_stream(exports["stream"]).read_all()
    pd.testing.assert_frame_equal(st.to_pandas(), want)
    pd.testing.assert_frame_equal(feather.read_feather(exports["all.arrow"]), want)


def test_undefined_features_are_null_not_nan(table):
    """Undefined features (NaN inside minerwatch) are nulls in the file:
    the validity bitmap says so, and no NaN is left in a feature column."""
    import pyarrow.compute as pc
    features = table.schema.names[len(FIXED):-TAIL]
    nulls = 0
    for name in features:
        col = table.column(name)
        nulls += col.null_count
        assert not pc.any(pc.is_nan(col)).as_py(), f"{name} holds NaN"
    assert nulls > 0, "expected some undefined (null) features, e.g. a std over one sample"
    # Where the server sent no data packet, its mean data-packet size is
    # undefined (null), and only there.
    no_data = pc.equal(table.column("down_data_pkts"), 0)
    assert pc.all(pc.equal(pc.is_null(table.column("down_size_mean")), no_data)).as_py()


def test_rows_carry_tls_and_signature_columns(table):
    """The TLS sample's rows carry its ClientHello (SNI as tshark shows it:
    pool.example-mining.test), the plaintext XMRig session's rows the
    signature stage's dialect; the others are null, never empty strings."""
    df = table.to_pandas()
    by = {c: g for c, g in df.groupby("capture")}
    tls = by[next(c for c in by if "xmrig-tls-443" in c)]
    assert (tls["tls_sni"] == "pool.example-mining.test").all()
    assert tls["tls_ja3_hash"].str.fullmatch("[0-9a-f]{32}").all() and tls["tls_ja4"].notna().all()
    assert tls["signature_dialect"].isna().all()
    plain = by[next(c for c in by if "xmrig-plain-3333" in c)]
    assert (plain["signature_dialect"] == "cryptonote").all() and plain["tls_sni"].isna().all()
    assert plain[plain["window_kind"] == "end"]["signature_state"].iloc[0] == "keepalive"
    # features --manifest runs neither intel nor a model: those are null.
    assert df["intel_match"].isna().all() and df["model_score"].isna().all()
    for name in STAGES:
        assert not (df[name] == "").any(), name


def test_train_rows_are_the_metadata_rule(exports, table):
    """--train-rows keeps exactly what minerwatch.train_rows selects."""
    rule = table.schema.metadata[b"minerwatch.train_rows"].decode()
    want = table.to_pandas().query(rule).reset_index(drop=True)
    got = pa.ipc.open_file(exports["train.arrow"]).read_all()
    assert got.schema.metadata[b"minerwatch.rows"] == b"train"
    got = got.to_pandas()
    assert len(got) == len(want) > 0
    cols = ["capture", "flow_id", "checkpoint_s", "label"]
    pd.testing.assert_frame_equal(got[cols], want[cols])


def undefined_counts(table):
    """Per feature column: (null count, sum over the defined values)."""
    import pyarrow.compute as pc
    features = [f["name"] for f in json.loads(table.schema.metadata[b"minerwatch.feature_table"])]
    return {n: (table.column(n).null_count, pc.sum(table.column(n)).as_py()) for n in features}


def test_duckdb_reads_parquet_nulls(exports, table):
    """DuckDB on the Parquet file: avg() is a number (NaN would poison it),
    IS NULL finds every undefined value pyarrow counts."""
    duckdb = pytest.importorskip("duckdb", reason="pip install duckdb (tests/python/requirements.txt)")
    con = duckdb.connect()
    path = exports["all.parquet"]
    for name, (nulls, total) in undefined_counts(table).items():
        got_nulls, avg = con.execute(
            f'SELECT count(*) FILTER (WHERE "{name}" IS NULL), avg("{name}") FROM read_parquet(?)', [path]).fetchone()
        assert got_nulls == nulls, name
        if nulls < table.num_rows:
            assert avg is not None and math.isfinite(avg), f"avg({name}) = {avg}"
            assert avg == pytest.approx(total / (table.num_rows - nulls)), name
    assert sum(n for n, _ in undefined_counts(table).values()) > 0


def test_polars_reads_parquet_nulls(exports, table):
    pl = pytest.importorskip("polars", reason="pip install polars (tests/python/requirements.txt)")
    df = pl.read_parquet(exports["all.parquet"])
    assert df.height == table.num_rows
    for name, (nulls, total) in undefined_counts(table).items():
        assert df[name].null_count() == nulls, name
        assert df[name].is_nan().sum() == 0, f"{name} holds NaN"
        if nulls < table.num_rows:
            assert df[name].mean() == pytest.approx(total / (table.num_rows - nulls)), name


def readme_block(marker):
    """The code block between <!-- marker:begin --> and <!-- marker:end -->."""
    text = open(os.path.join(REPO, "README.md")).read()
    block = text.split(f"<!-- {marker}:begin -->", 1)[1].split(f"<!-- {marker}:end -->", 1)[0]
    return block.split("```python\n", 1)[1].split("```", 1)[0]


@pytest.mark.parametrize("marker,module", [("duckdb-example", "duckdb"), ("polars-example", "polars")])
def test_readme_parquet_examples_run(exports, tmp_path, marker, module, capsys):
    """The README's DuckDB and polars examples run as printed, next to a
    features.parquet, and print numbers, not NaN."""
    pytest.importorskip(module, reason=f"pip install {module} (tests/python/requirements.txt)")
    code = readme_block(marker)
    assert len(code.strip().splitlines()) <= 4, code
    os.symlink(exports["all.parquet"], tmp_path / "features.parquet")
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        exec(compile(code, f"README {marker}", "exec"), {})
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "mining" in out and "benign" in out, out
    assert "nan" not in out.lower(), out
