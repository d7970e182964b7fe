"""Check minerwatch's events against what EVE consumers expect (issue 14).

- Community ID: every event's `community_id` is recomputed with the
  reference implementation (PyPI `communityid`, by Corelight, the spec's
  authors) from the event's own 5-tuple.
- EVE schema: with the `minerwatch` key removed, every alert and flow event
  validates against a subset of Suricata's published EVE schema
  (OISF/suricata etc/schema.json): the field types below were transcribed
  by hand from it, keeping its `additionalProperties: false`, so a field we
  add that EVE does not have, or a type that conflicts with EVE's (the old
  string `tls.ja3`), fails.
- flow_id: the alert, the flow event and the exported feature rows of one
  flow carry the same id.

Inputs: the repo's samples (datasets/samples), plus, when ../shared is
present, the lab and public mining captures (more dialects, proxies and
intel matches).
"""
import base64
import glob
import json
import os
import re
import subprocess

import communityid
import jsonschema
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BIN = os.path.join(REPO, "bin", "minerwatch")
SAMPLES = sorted(glob.glob(os.path.join(REPO, "datasets", "samples", "*.pcap")))
SHARED = os.path.join(os.path.dirname(REPO), "shared", "datasets")


def shared_captures():
    if not os.path.isdir(SHARED):
        return []
    out = sorted(glob.glob(os.path.join(SHARED, "lab", "mining", "*.pcap")))
    out += sorted(p for p in glob.glob(os.path.join(SHARED, "public", "mining", "*.pcap*"))
                  if not p.endswith((".flows", ".pools")))
    return out


def detect(*args):
    if not os.path.exists(BIN):
        pytest.skip("bin/minerwatch missing: run `make build` (make test-python does)")
    res = subprocess.run([BIN, "detect", "--no-learned", *args], cwd=REPO, check=True, capture_output=True, text=True)
    return [json.loads(line) for line in res.stdout.splitlines()]


@pytest.fixture(scope="module")
def events():
    evs = detect("--sensor-name", "eve-test", "-r", *SAMPLES, *shared_captures())
    assert any(e["event_type"] == "alert" for e in evs) and any(e["event_type"] == "flow" for e in evs)
    return evs


# --- EVE schema subset, transcribed from OISF/suricata etc/schema.json ------

def strings():
    return {"type": "array", "items": {"type": "string"}}


EVE_TIME = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+[+\-]\d+$"  # schema.json's timestamp pattern

EVE_SCHEMA = {
    "type": "object",
    "required": ["timestamp", "event_type"],  # the two its "optional": false marks
    "properties": {
        "timestamp": {"type": "string", "pattern": EVE_TIME},
        "flow_id": {"type": "integer"},
        "pcap_filename": {"type": "string"},
        "event_type": {"type": "string"},
        "vlan": {"type": "array", "items": {"type": "number"}},
        "src_ip": {"type": "string"},
        "src_port": {"type": "integer"},
        "dest_ip": {"type": "string"},
        "dest_port": {"type": "integer"},
        "proto": {"type": "string"},
        "community_id": {"type": "string"},
        "app_proto": {"type": "string"},
        # Not in schema.json (its test runs are pcap-only, without a sensor
        # name) but written by Suricata's EVE output for every event: the
        # sensor-name setting as "host", the capture interface as "in_iface".
        "host": {"type": "string"},
        "in_iface": {"type": "string"},
        "alert": {
            "type": "object",
            "properties": {
                "action": {"type": "string"}, "category": {"type": "string"},
                "gid": {"type": "integer"}, "rev": {"type": "integer"},
                "severity": {"type": "integer"}, "signature": {"type": "string"},
                "signature_id": {"type": "integer"},
                "metadata": {
                    "type": "object",
                    "properties": {k: strings() for k in [
                        "affected_product", "attack_target", "created_at", "deployment", "former_category",
                        "malware_family", "policy", "signature_severity", "tag", "updated_at"]},
                    "additionalProperties": False,
                },
            },
            "additionalProperties": False,
        },
        "flow": {
            "type": "object",
            "properties": {
                "action": {"type": "string"}, "age": {"type": "integer"}, "alerted": {"type": "boolean"},
                "bytes_toclient": {"type": "integer"}, "bytes_toserver": {"type": "integer"},
                "pkts_toclient": {"type": "integer"}, "pkts_toserver": {"type": "integer"},
                "end": {"type": "string"}, "start": {"type": "string"},
                "reason": {"type": "string"}, "state": {"type": "string"},
            },
            "additionalProperties": False,
        },
        "tls": {
            "type": "object",
            "properties": {
                "sni": {"type": "string"}, "version": {"type": "string"},
                "ja3": {"type": "object", "properties": {"hash": {"type": "string"}, "string": {"type": "string"}},
                        "additionalProperties": False},
                # Suricata 8's EVE (docs: output/eve/eve-json-format, tls):
                # newer than the schema.json we read.
                "ja4": {"type": "string"},
                "client_alpns": strings(),
            },
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}


def test_every_event_validates_against_the_eve_schema_without_our_key(events):
    validator = jsonschema.Draft7Validator(EVE_SCHEMA)
    for e in events:
        assert isinstance(e.get("minerwatch"), dict), e
        eve = {k: v for k, v in e.items() if k != "minerwatch"}
        errors = sorted(validator.iter_errors(eve), key=str)
        assert not errors, (errors[0].message, list(errors[0].path), eve)


def test_timestamps_parse_with_suricatas_fixed_format(events):
    # Suricata: always 6 fraction digits and a numeric offset (%6N%z).
    fixed = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}[+-]\d{4}$")
    for e in events:
        flow = e.get("flow", {})
        for ts in [e["timestamp"], flow.get("start", e["timestamp"]), flow.get("end", e["timestamp"])]:
            assert fixed.match(ts), ts


def test_alert_objects_are_complete_and_flow_events_have_none(events):
    for e in flow_events(events):
        if e["event_type"] == "alert":
            a = e["alert"]
            assert a["action"] == "allowed" and a["gid"] == 1 and a["rev"] >= 1
            assert a["signature"].startswith("MINERWATCH ") and a["severity"] in (1, 2, 3)
            assert a["category"] == "Crypto Currency Mining Activity Detected"
            assert "coin-mining" in a["metadata"]["tag"]
            assert "end" not in e["flow"]
        else:
            assert e["event_type"] == "flow" and "alert" not in e
            assert e["flow"]["alerted"] is True and e["flow"]["state"] in ("new", "established", "closed")
            assert e["flow"]["reason"] in ("timeout", "forced", "shutdown")
        assert e["host"] == "eve-test"
        assert 0 < e["flow_id"] < 2**51  # exact as a JSON double


def flow_events(events):
    """The alert and flow events: the EVE types minerwatch writes per flow
    (intel_summary events fold many flows and carry none of a flow's ids)."""
    return [e for e in events if e["event_type"] in ("alert", "flow")]


def test_signature_ids_are_the_published_ones(events):
    if not os.path.exists(BIN):
        pytest.skip("bin/minerwatch missing")
    listed = {}
    out = subprocess.run([BIN, "rules"], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines()[1:]:
        sid, _gid, _rev, _detector, signature = line.split(None, 4)
        listed[int(sid)] = signature
    for e in events:
        if e["event_type"] == "alert":
            assert listed.get(e["alert"]["signature_id"]) == e["alert"]["signature"], e["alert"]


# --- Community ID -----------------------------------------------------------

PROTOS = {"TCP": communityid.FlowTuple.make_tcp, "UDP": communityid.FlowTuple.make_udp}


def expected_community_id(e, seed):
    make = PROTOS[e["proto"]]
    return communityid.CommunityID(seed=seed).calc(make(e["src_ip"], e["dest_ip"], e["src_port"], e["dest_port"]))


def test_community_id_matches_the_reference_implementation(events):
    checked = 0
    for e in flow_events(events):
        if e["proto"] not in PROTOS:  # ICMP: no type/code in the flow key, so no ID (README)
            assert "community_id" not in e, e
            continue
        assert e["community_id"] == expected_community_id(e, 0), e
        checked += 1
    assert checked > 0


def test_community_id_seed_is_used():
    evs = detect("--community-id-seed", "7", "-r", *SAMPLES)
    assert evs
    for e in flow_events(evs):
        assert e["community_id"] == expected_community_id(e, 7) != expected_community_id(e, 0)
        digest = base64.b64decode(e["community_id"][2:])
        assert len(digest) == 20  # SHA-1


def test_eve_types_selects_the_events_written():
    only_flows = detect("--eve-types", "flow", "-r", *SAMPLES)
    assert only_flows and all(e["event_type"] == "flow" for e in only_flows)


# --- flow_id across outputs -------------------------------------------------

def test_flow_id_is_the_same_in_alerts_flow_events_and_feature_rows(events, tmp_path):
    out = str(tmp_path / "rows.arrow")
    subprocess.run([BIN, "features", "-r", *SAMPLES, "-o", out], cwd=REPO, check=True, capture_output=True)
    with pa.memory_map(out) as src:
        rows = pa.ipc.open_file(src).read_all().to_pylist()
    by_tuple = {}
    for r in rows:
        key = frozenset([(r["src_ip"], r["src_port"]), (r["dest_ip"], r["dest_port"])])
        by_tuple.setdefault(key, set()).add(r["flow_id"])
    samples = {os.path.basename(p) for p in SAMPLES}
    alerted, ended = {}, {}
    for e in flow_events(events):
        if e.get("pcap_filename") not in samples:
            continue
        key = frozenset([(e["src_ip"], e["src_port"]), (e["dest_ip"], e["dest_port"])])
        assert by_tuple.get(key) == {e["flow_id"]}, (e["event_type"], key, by_tuple.get(key), e["flow_id"])
        (alerted if e["event_type"] == "alert" else ended)[key] = e["flow_id"]
    assert ended, "no flow event on the samples"
    for key, fid in ended.items():
        assert alerted.get(key) == fid


def test_feature_rows_join_alerts_on_flow_id_with_their_tls_and_dialect(tmp_path):
    """Researchers join feature rows with alerts on flow_id: the rows of an
    alerted flow carry the same ClientHello (SNI, JA3 hash, JA4) as the
    alert's tls object, and their end row the signature dialect the alert
    names. (The samples on their own: the shared datasets hold copies of
    them, which one detect run would merge into the same flows.)"""
    events = detect("-r", *SAMPLES)
    out = str(tmp_path / "rows.parquet")
    subprocess.run([BIN, "features", "-r", *SAMPLES, "-o", out], cwd=REPO, check=True, capture_output=True)
    rows = {}
    for r in pq.read_table(out).to_pylist():
        rows.setdefault(r["flow_id"], []).append(r)
    joined_tls = joined_dialect = 0
    for e in flow_events(events):
        if e["flow_id"] not in rows:
            continue  # a flow of a shared capture, not exported here
        mine = rows[e["flow_id"]]
        if "tls" in e:
            for r in mine:
                assert (r["tls_sni"], r["tls_ja3_hash"], r["tls_ja4"]) == (
                    e["tls"].get("sni"), e["tls"]["ja3"]["hash"], e["tls"]["ja4"]), (e["flow_id"], r["window_kind"])
            joined_tls += 1
        dialect = e["minerwatch"].get("mining", {}).get("dialect")
        if dialect:
            end = [r for r in mine if r["window_kind"] == "end"]
            assert len(end) == 1 and end[0]["signature_dialect"] == dialect, (e["flow_id"], end)
            joined_dialect += 1
    assert joined_tls and joined_dialect, (joined_tls, joined_dialect)
