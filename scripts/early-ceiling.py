#!/usr/bin/env python3
"""What a flow has shown by 10, 20 and 30 s: the ceiling of early verdicts.

Reads the labelled feature rows `minerwatch features --manifest M --set seq`
writes (the seq set: a flow's first 32 messages — data packets, or TLS
application records — with direction, length and the gap before each) and
prints, for every encrypted (TLS or proxied) mining flow and for the benign
flows that look most like one, what had been exchanged by each horizon:

  up/down   application messages each way
  login     the session's opening exchange: the first up message answered by
            a larger down message within 2 s (login → answer carrying the
            first job; any request/response protocol has one too)
  shares    later up messages of one repeated length, each answered within
            2 s by a short (< 160 B) down message: the fixed-size submit and
            its fixed-size result, the one exchange specific to mining
  pushes    down messages that answer no up message (none in the previous
            2 s): jobs the pool sends unasked, heartbeats elsewhere

Built on mining's behaviour (login → job → shares, pushes), not on a lab's
ports, addresses or delays. Times count from the flow's first data message.

Usage:
  minerwatch features --manifest ../shared/datasets/manifest.tsv --set seq \\
      --checkpoints 10,20,30,60,120,300,+300 -o /tmp/seq.arrow
  python3 scripts/early-ceiling.py /tmp/seq.arrow [--benign 15]
"""
import argparse
import math
import sys

import pyarrow.ipc as ipc

HORIZONS = (10, 20, 30)
N = 32
ANSWER = 2.0      # s: a down message this soon after an up one answers it
SHORT = 160       # bytes: a share result (+ record/tunnel overhead) is shorter


def timeline(row):
    """The recorded messages as (t, up, length), t from the first message."""
    out, t = [], 0.0
    for i in range(1, N + 1):
        v = row[f"seq_len_{i}"]
        if v is None or (isinstance(v, float) and math.isnan(v)):
            break
        if i > 1:
            g = row[f"seq_gap_{i}"]
            t += 0.0 if g is None or math.isnan(g) else g
        out.append((t, v > 0, abs(int(v))))
    return out


def describe(msgs, horizon):
    """What msgs show by horizon seconds (see the module doc)."""
    m = [x for x in msgs if x[0] <= horizon]
    up = [x for x in m if x[1]]
    down = [x for x in m if not x[1]]
    login = False
    if up:
        t0, _, l0 = up[0]
        login = any(not u and t0 < t <= t0 + ANSWER and length > l0 * 0.5 for t, u, length in m)
    # request/answer pairs after the first up message
    answered = []
    for i, (t, u, length) in enumerate(m):
        if not u or (up and (t, u, length) == up[0]):
            continue
        for t2, u2, l2 in m[i + 1:]:
            if t2 > t + ANSWER:
                break
            if not u2:
                answered.append((length, l2))
                break
    lens = {}
    for ln, reply in answered:
        if reply < SHORT:
            lens[ln] = lens.get(ln, 0) + 1
    shares = max(lens.values()) if lens else 0
    pushes = 0
    last_up = -1e9
    for t, u, _ in m:
        if u:
            last_up = t
        elif t - last_up > ANSWER:
            pushes += 1
    return dict(up=len(up), down=len(down), login=login, shares=shares, pushes=pushes)


def opening(msgs, horizon):
    """The first up message's length and the longest down message by horizon."""
    m = [x for x in msgs if x[0] <= horizon]
    up = [x[2] for x in m if x[1]]
    down = [x[2] for x in m if not x[1]]
    return (up[0], max(down)) if up and down else None


def close(a, b):
    return abs(a[0] - b[0]) <= 0.15 * b[0] and abs(a[1] - b[1]) <= 0.15 * b[1]


def skeleton(d):
    """How much of mining's skeleton a description holds (for ranking)."""
    return (d["shares"] >= 1) * 4 + min(d["shares"], 3) + d["login"] + (d["pushes"] >= 1)


def fmt(d):
    return "%2d/%-2d %s %d %d" % (d["up"], d["down"], "L" if d["login"] else "-", d["shares"], d["pushes"])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("arrow", help="features --manifest --set seq output (Arrow IPC file)")
    ap.add_argument("--benign", type=int, default=15, help="benign flows to list (highest skeleton at 30 s)")
    a = ap.parse_args()
    t = ipc.open_file(a.arrow).read_all()
    need = ["flow_id", "capture", "scenario", "label", "window_kind", "elapsed"] + \
        [f"seq_len_{i}" for i in range(1, N + 1)] + [f"seq_gap_{i}" for i in range(2, N + 1)]
    rows = t.select(need).to_pylist()
    # A flow's fullest sequence is its end row (or its last checkpoint):
    # the one with the most messages, truncated at each horizon below.
    best = {}
    for r in rows:
        if r["label"] not in ("mining", "benign"):
            continue
        k = (r["capture"], r["flow_id"])
        n = sum(1 for i in range(1, N + 1) if r[f"seq_len_{i}"] is not None and not math.isnan(r[f"seq_len_{i}"]))
        if k not in best or n > best[k][0] or (n == best[k][0] and (r["elapsed"] or 0) > (best[k][1]["elapsed"] or 0)):
            best[k] = (n, r)
    head = "%-46s %-6s" % ("flow (capture)", "scen") + "".join("   by %2ds: up/dn L sh pu" % h for h in HORIZONS)
    enc, ben = [], []
    for (cap, fid), (_, r) in sorted(best.items()):
        msgs = timeline(r)
        ds = [describe(msgs, h) for h in HORIZONS]
        # alive at 30 s: only flows that lasted that long are in the question
        alive30 = (r["elapsed"] or 0) >= 30
        name = cap.rsplit("/", 1)[-1][:40] + "#" + str(fid)[-4:]
        op = opening(msgs, HORIZONS[-1])
        if r["label"] == "mining" and r["scenario"] in ("tls", "proxy"):
            enc.append((name, r["scenario"], ds, op))
        elif r["label"] == "benign" and alive30:
            ben.append((name, r["scenario"] or "-", ds, op))
    print("encrypted mining flows (L = login answered, sh = fixed-size shares answered short, pu = unasked down messages)")
    print(head)
    for name, sc, ds, _ in enc:
        print("%-46s %-6s" % (name, sc) + "".join("   %18s" % fmt(d) for d in ds))
    print()
    print("summary: flows (of %d encrypted) with" % len(enc))
    for i, h in enumerate(HORIZONS):
        c = lambda f: sum(1 for _, _, ds, _ in enc if f(ds[i]))
        cb = lambda f: sum(1 for _, _, ds, _ in ben if f(ds[i]))
        print("  by %2d s: login %2d, >=1 share %2d, >=2 shares %2d, a push %2d, only the login (no later message) %2d"
              "   | benign alive at 30 s (%d): >=1 share-like %d, >=2 %d, a push %d" % (
                  h, c(lambda d: d["login"]), c(lambda d: d["shares"] >= 1), c(lambda d: d["shares"] >= 2),
                  c(lambda d: d["pushes"] >= 1), c(lambda d: d["up"] <= 1 and d["shares"] == 0),
                  len(ben), cb(lambda d: d["shares"] >= 1), cb(lambda d: d["shares"] >= 2), cb(lambda d: d["pushes"] >= 1)))
    # The flows that show nothing but the opening exchange by 30 s can only
    # be told apart by its sizes: how many benign flows have that shape and
    # opening sizes within 15% of such a mining flow's?
    lone = lambda ds: ds[-1]["up"] <= 1 and ds[-1]["shares"] == 0 and ds[-1]["pushes"] == 0
    mo = [op for _, _, ds, op in enc if lone(ds) and op]
    bo = [op for _, _, ds, op in ben if lone(ds) and op]
    print("  opening exchange only by 30 s: %d mining flows (opening up/down bytes %s); %d benign flows alive at 30 s,"
          " %d of them with opening sizes within 15%% of one of those" % (
              len(mo), sorted(set(mo)), len(bo), sum(1 for b in bo if any(close(b, m) for m in mo))))
    print()
    ben.sort(key=lambda x: (-skeleton(x[2][2]), -skeleton(x[2][1]), x[0]))
    print("benign flows alive at 30 s that show most of mining's skeleton by 30 s (%d of %d listed)" % (min(a.benign, len(ben)), len(ben)))
    print(head)
    for name, sc, ds, _ in ben[:a.benign]:
        print("%-46s %-6s" % (name, sc) + "".join("   %18s" % fmt(d) for d in ds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
