#!/usr/bin/env python3
"""What an interop run's qlog (ours, JSON-SEQ) shows about path frames.

  qlog_check.py backup QLOG sent|received
      The first PATH_STATUS_BACKUP this endpoint sent, then the
      PATH_STATUS_AVAILABLE for the same path: STREAM frames on that path
      (in packets it sent, or received) before, between and after. While
      backup (from the BACKUP frame, plus 100 ms for the peer to hear of it
      when the peer sends the data, until AVAILABLE) there must be none;
      before and after, some. Prints one line; exits 1 when not so.
  qlog_check.py path-ids QLOG
      Packets went on a path ID above both ends' initial_max_path_id (the
      smaller one), which a MAX_PATH_ID (sent or received) allowed. Prints
      one line; exits 1 when not so.
  qlog_check.py first-abandon QLOG
      This endpoint sent PATH_ABANDON before it received one (it started
      the abandonment). Prints one line; exits 1 when not so.
"""
import json
import sys

SLACK_MS = 100.0


def events(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.strip("\x1e\n ")
            if not line.startswith("{"):
                continue
            try:
                ev = json.loads(line)
            except ValueError:
                continue
            if "name" in ev and "time" in ev:
                yield ev


def frames(ev):
    return ev.get("data", {}).get("frames", [])


def first_sent(evs, ftype, after=-1.0, path=None):
    for ev in evs:
        if ev["name"] != "quic:packet_sent" or ev["time"] <= after:
            continue
        for fr in frames(ev):
            if fr.get("frame_type") == ftype and (path is None or fr.get("path_id") == path):
                return ev["time"], fr.get("path_id")
    return None, None


def backup(path, direction):
    evs = list(events(path))
    t1, pid = first_sent(evs, "path_status_backup")
    if t1 is None:
        return "no PATH_STATUS_BACKUP sent"
    t2, _ = first_sent(evs, "path_status_available", t1, pid)
    if t2 is None:
        return "PATH_STATUS_BACKUP for path %d at %.0f ms, no PATH_STATUS_AVAILABLE after" % (pid, t1)
    name = "quic:packet_" + direction
    start = t1 + (SLACK_MS if direction == "received" else 0.0)
    before = during = after = 0
    for ev in evs:
        if ev["name"] != name or ev.get("data", {}).get("path_id") != pid:
            continue
        n = sum(fr.get("raw", {}).get("length", 0) for fr in frames(ev)
                if fr.get("frame_type") == "stream")
        t = ev["time"]
        if t < t1:
            before += n
        elif start < t < t2:
            during += n
        elif t > t2:
            after += n
    what = ("path %d backup %.0f-%.0f ms: STREAM bytes %s on it before %d, while backup %d, after %d"
            % (pid, t1, t2, direction, before, during, after))
    if before == 0 or during != 0 or after == 0:
        return "not as it should be: " + what
    print(what)
    return None


def first_abandon(path):
    for ev in events(path):
        if ev["name"] not in ("quic:packet_sent", "quic:packet_received"):
            continue
        for fr in frames(ev):
            if fr.get("frame_type") == "path_abandon":
                if ev["name"] == "quic:packet_received":
                    return "PATH_ABANDON for path %s received before any was sent" % fr.get("path_id")
                print("PATH_ABANDON for path %s sent first, at %.0f ms" % (fr.get("path_id"), ev["time"]))
                return None
    return "no PATH_ABANDON sent or received"


def path_ids(path):
    limits = {}
    top = -1
    raised = {"sent": [], "received": []}
    for ev in events(path):
        data = ev.get("data", {})
        if ev["name"] == "quic:parameters_set" and "initial_max_path_id" in data:
            limits[data.get("initiator", "?")] = data["initial_max_path_id"]
        if ev["name"] not in ("quic:packet_sent", "quic:packet_received"):
            continue
        pid = data.get("path_id")
        if isinstance(pid, int) and pid > top:
            top = pid
        for fr in frames(ev):
            if fr.get("frame_type") == "max_path_id":
                raised[ev["name"][len("quic:packet_"):]].append(fr.get("maximum_path_id"))
    if "local" not in limits or "remote" not in limits:
        return "no initial_max_path_id of both ends in the qlog"
    first = min(limits["local"], limits["remote"])
    what = ("path IDs up to %d used, initial_max_path_id %d (ours) and %d (peer's); "
            "MAX_PATH_ID sent %s, received %s"
            % (top, limits["local"], limits["remote"], raised["sent"], raised["received"]))
    if top <= first or not any(v is not None and v >= top
                               for v in raised["sent"] + raised["received"]):
        return "not as it should be: " + what
    print(what)
    return None


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "backup":
        err = backup(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 3 and sys.argv[1] == "path-ids":
        err = path_ids(sys.argv[2])
    elif len(sys.argv) == 3 and sys.argv[1] == "first-abandon":
        err = first_abandon(sys.argv[2])
    else:
        sys.exit(__doc__)
    if err:
        print(err)
        sys.exit(1)


main()
