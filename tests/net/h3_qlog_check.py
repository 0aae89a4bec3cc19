#!/usr/bin/env python3
"""Checks mpq-trace's HTTP/3 events in the qlog of one h3 connection.

  h3_qlog_check.py FILE.sqlog PATH=SIZE...

The client's HEADERS (http3:frame_created) carry exactly the :path values
given, one request stream each; the server's HEADERS (http3:frame_parsed) on
those streams say :status 200; the DATA frames of each stream add up to its
SIZE; SETTINGS went both ways, each on its sender's control stream (typed by
http3:stream_type_set, initiator local and remote); no loglevel:warning.
Prints the number of frames; exit 1 with the reason otherwise.
"""
import json
import sys


def main():
    recs = [json.loads(r) for r in open(sys.argv[1]).read().split("\x1e") if r.strip()]
    want = dict(a.rsplit("=", 1) for a in sys.argv[2:])
    hdr, evs = recs[0], recs[1:]
    schemas = hdr["trace"]["event_schemas"]
    assert "urn:ietf:params:qlog:events:http3-13" in schemas, schemas
    frames = [(e["name"], e["data"]["stream_id"], e["data"]["frame"]) for e in evs
              if e["name"] in ("http3:frame_created", "http3:frame_parsed")]
    warnings = [e for e in evs if e["name"].startswith("loglevel:")]
    assert not warnings, warnings

    def headers(name, key):
        got = {}
        for n, sid, f in frames:
            if n == name and f["frame_type"] == "headers":
                got[sid] = [h["value"] for h in f["headers"] if h["name"] == key]
        return got

    paths = headers("http3:frame_created", ":path")
    assert sorted(paths.values()) == sorted([p] for p in want), (paths, want)
    status = headers("http3:frame_parsed", ":status")
    assert sorted(status) == sorted(paths), (status, paths)
    assert all(v == ["200"] for v in status.values()), status
    body = {}
    for n, sid, f in frames:
        if f["frame_type"] == "data":
            assert n == "http3:frame_parsed", (n, sid)
            body[sid] = body.get(sid, 0) + f["raw"]["payload_length"]
    sizes = {sid: int(want[p[0]]) for sid, p in paths.items()}
    assert body == sizes, ("DATA bytes by stream", body, "want", sizes)
    settings = [(n, sid) for n, sid, f in frames if f["frame_type"] == "settings"]
    assert sorted(n for n, _ in settings) == ["http3:frame_created", "http3:frame_parsed"], settings
    for n, sid, f in frames:
        if f["frame_type"] == "settings":
            names = {s["name"]: s["value"] for s in f["settings"]}
            assert names.get("settings_qpack_max_table_capacity") == 0, f
    types = {(e["data"]["initiator"], e["data"]["stream_id"], e["data"]["stream_type"])
             for e in evs if e["name"] == "http3:stream_type_set"}
    ctrl = {(i, s) for i, s, t in types if t == "control"}
    assert sorted(i for i, _ in ctrl) == ["local", "remote"], types
    assert {sid for _, sid in settings} == {s for _, s in ctrl}, (settings, ctrl)
    print(len(frames), "frames")


try:
    main()
except (AssertionError, KeyError, ValueError, OSError) as e:
    print("h3_qlog_check:", repr(e))
    sys.exit(1)
