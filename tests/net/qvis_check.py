#!/usr/bin/env python3
"""Checks that a file is what qvis loads as a qlog 0.3 JSON document.

The rules are those of qvis's loader (quiclog/qvis, visualizations/src/data:
QlogLoaderV2.fromDraft02 with QlogSchema02's Defaults.versionAliases, which
takes "0.3" as an alias of draft-02, and DirectEventParser), and of the views
that read a network trace (the sequence diagram and the congestion graph treat
a trace as the client's only when vantage_point.type is client or its flow is):

  qlog_version one of draft-02, draft-02-RC1, qlog-03-WIP, 0.3; qlog_format
  "JSON" (without it qvis alerts); traces a non-empty list of traces, none an
  error trace; vantage_point.type client, server, network or unknown, and a
  network trace has flow client or server; common_fields.time_format
  relative (with a numeric reference_time), absolute or delta; no
  event_fields (qvis would read the events as arrays); events a non-empty list
  of objects, the last one not empty, each with a numeric time, a name
  "category:event" of a category qvis knows and an object data; times never
  decreasing (qvis sorts and alerts otherwise); group_id on all events or
  none (qvis splits by it); none of the draft-01 fields qvis rewrites and
  alerts about (data.packet_type, data.header.packet_size,
  data.header.payload_length); packet events with header.packet_type of
  qvis's PacketType, a packet_number when the type has one, frames as a list
  of objects with frame_type.

  qvis_check.py FILE...   prints one line per file; exit 1 on the first
                          violation, naming it.
"""
import json
import numbers
import sys

VERSIONS = ("draft-02", "draft-02-RC1", "qlog-03-WIP", "0.3")
VANTAGE = ("client", "server", "network", "unknown")
TIME_FORMATS = ("relative", "absolute", "delta")
CATEGORIES = ("connectivity", "security", "transport", "recovery", "http", "qpack",
              "error", "warning", "info", "debug", "verbose", "simulation")
PACKET_TYPES = ("initial", "handshake", "0RTT", "1RTT", "retry", "version_negotiation",
                "stateless_reset", "unknown")
WITH_PN = ("initial", "handshake", "0RTT", "1RTT")
PACKET_EVENTS = ("transport:packet_sent", "transport:packet_received", "recovery:packet_lost")


class Bad(Exception):
    pass


def need(cond, what):
    if not cond:
        raise Bad(what)


def number(v):
    return isinstance(v, numbers.Number) and not isinstance(v, bool)


def check_event(i, e, prev):
    need(isinstance(e, dict) and e, "event %d is not a non-empty object" % i)
    need(number(e.get("time")), "event %d: time %r is not a number" % (i, e.get("time")))
    need(e["time"] >= prev, "event %d: time %r before the previous %r" % (i, e["time"], prev))
    name = e.get("name")
    need(isinstance(name, str) and name.count(":") == 1,
         "event %d: name %r is not category:event" % (i, name))
    need(name.split(":")[0] in CATEGORIES, "event %d: category of %r unknown to qvis" % (i, name))
    data = e.get("data")
    need(isinstance(data, dict), "event %d (%s): data is not an object" % (i, name))
    need("packet_type" not in data, "event %d (%s): data.packet_type (draft-01)" % (i, name))
    hdr = data.get("header")
    if hdr is not None:
        need(isinstance(hdr, dict), "event %d (%s): header is not an object" % (i, name))
        for old in ("packet_size", "payload_length"):
            need(old not in hdr, "event %d (%s): header.%s (draft-01)" % (i, name, old))
    if name in PACKET_EVENTS:
        need(isinstance(hdr, dict), "event %d (%s): no header" % (i, name))
        pt = hdr.get("packet_type")
        need(pt in PACKET_TYPES, "event %d (%s): packet_type %r" % (i, name, pt))
        if pt in WITH_PN:
            need(number(hdr.get("packet_number")), "event %d (%s): no packet_number" % (i, name))
        frames = data.get("frames", [])
        need(isinstance(frames, list), "event %d (%s): frames is not a list" % (i, name))
        for f in frames:
            need(isinstance(f, dict) and isinstance(f.get("frame_type"), str),
                 "event %d (%s): a frame without frame_type: %r" % (i, name, f))
    return e["time"]


def check(path):
    with open(path) as f:
        q = json.load(f)
    need(isinstance(q, dict), "not a JSON object")
    need(q.get("qlog_version") in VERSIONS, "qlog_version %r" % q.get("qlog_version"))
    need(q.get("qlog_format") == "JSON", "qlog_format %r" % q.get("qlog_format"))
    traces = q.get("traces")
    need(isinstance(traces, list) and traces, "no traces")
    nev = 0
    names = set()
    for t, tr in enumerate(traces):
        need(isinstance(tr, dict), "trace %d is not an object" % t)
        need("error_description" not in tr, "trace %d is an error trace" % t)
        vp = tr.get("vantage_point")
        need(isinstance(vp, dict) and vp.get("type") in VANTAGE,
             "trace %d: vantage_point %r" % (t, vp))
        if vp["type"] == "network":
            need(vp.get("flow") in ("client", "server"),
                 "trace %d: a network vantage point without flow client or server: %r" % (t, vp))
        cf = tr.get("common_fields", {})
        need(isinstance(cf, dict), "trace %d: common_fields is not an object" % t)
        tf = cf.get("time_format", "absolute")
        need(tf in TIME_FORMATS, "trace %d: time_format %r" % (t, tf))
        if tf == "relative":
            need(number(cf.get("reference_time")), "trace %d: relative time without a "
                 "numeric reference_time: %r" % (t, cf.get("reference_time")))
        need(not tr.get("event_fields"), "trace %d: event_fields" % t)
        ev = tr.get("events")
        need(isinstance(ev, list) and ev, "trace %d: no events" % t)
        grouped = [isinstance(e, dict) and "group_id" in e for e in ev]
        need(all(grouped) or not any(grouped), "trace %d: group_id on some events only" % t)
        prev = float("-inf")
        for i, e in enumerate(ev):
            prev = check_event(i, e, prev)
            names.add(e["name"])
        nev += len(ev)
    return "%d trace(s), %d events, %d event names, qlog_version %s" % (
        len(traces), nev, len(names), q["qlog_version"])


def main():
    for path in sys.argv[1:]:
        try:
            print("%s: %s" % (path, check(path)))
        except (Bad, ValueError, OSError) as e:
            print("%s: not loadable by qvis: %s" % (path, e))
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
