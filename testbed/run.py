"""mpq-testbed run EXPERIMENT [--reps N] [--out DIR] [--resume] [--capture]
                  [--qlog] [--points N] [--set 'KEY VALUE...']... [--name NAME]
                  [--hosts FILE | --sshloginfile FILE [--runner-testbed PATH]]

Runs every point of an experiment file (docs/testbed.md) REPS times: one
row per run in DIR/results.csv, the run's files in DIR/runs/RUN/, a
progress line per run, and the plots in DIR at the end. The testbed is
torn down after each run, also on Ctrl-C, TERM and errors.
"""
import argparse
import csv
import hashlib
import os
import shutil
import signal
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import experiment  # noqa: E402
import plots  # noqa: E402
import hosts as hostsfile  # noqa: E402
import runners  # noqa: E402
from backend_local import LocalBackend  # noqa: E402
from backend_hosts import HostsBackend  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PROG = "mpq-testbed run"
FIXED = ["experiment", "run", "point", "rep", "scheduler", "stream_scheduler", "cc", "io",
         "multipath", "paths", "bytes", "seconds", "goodput_mbps", "handshake_ms", "ok",
         "error", "transport"]


def die(msg, code=1):
    print("%s: %s" % (PROG, msg), file=sys.stderr)
    sys.exit(code)


def experiment_path(arg):
    if os.path.exists(arg):
        return arg
    builtin = os.path.join(HERE, "experiments", arg)
    if os.path.exists(builtin):
        return builtin
    die("no experiment file %s (nor %s)" % (arg, builtin), 2)


def pattern_sha256(n):
    """The sha256 of mpq-server's generated body of N bytes (byte i is
    i % 251, lib/app/hq.c)."""
    h = hashlib.sha256()
    chunk = bytes(range(251)) * 4096
    while n > 0:
        h.update(chunk[:n])
        n -= len(chunk)
    return h.hexdigest()


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def expected(settings, cache={}):
    """[(bytes, sha256)] of each URL the point gets; None when unknown (a
    file we cannot read here)."""
    out = []
    for w in settings["get"].split():
        n = experiment.size_bytes(w)
        key = (w, settings["www"])
        if key not in cache:
            if n is not None:
                cache[key] = (n, pattern_sha256(n))
            else:
                try:
                    f = os.path.join(settings["www"], w.lstrip("/"))
                    cache[key] = (os.path.getsize(f), file_sha256(f))
                except OSError:
                    return None
        out.append(cache[key])
    return out


def verify(settings, summary):
    """An error when the bodies are not byte-exact, else ''."""
    want = expected(settings)
    if want is None:
        return ""
    urls = summary.get("urls", [])
    if len(urls) != len(want):
        return "%d URLs, not %d" % (len(urls), len(want))
    for u, (n, sha) in zip(urls, want):
        if u.get("bytes") != n:
            return "%s: %s bytes, not %d" % (u.get("url"), u.get("bytes"), n)
        if u.get("sha256") != sha:
            return "%s: sha256 differs" % u.get("url")
    return ""


def human(n):
    for unit, size in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= size:
            return "%.1f %s" % (n / size, unit)
    return "%d B" % n


def row_of(exp, point, rep, run, res, maxpaths):
    s = point["settings"]
    sm = res.get("summary") or {}
    row = {"experiment": exp.name, "run": run, "point": point["index"], "rep": rep,
           "scheduler": s["sched"], "stream_scheduler": s["stream-sched"], "cc": s["cc"],
           "io": s["io"], "multipath": s["multipath"], "transport": s["transport"],
           "paths": sum(1 for p in sm.get("paths", []) if p.get("bytes_received", 0) > 0),
           "bytes": sm.get("bytes_total", 0), "seconds": sm.get("seconds", ""),
           "goodput_mbps": sm.get("goodput_mbps", ""), "handshake_ms": sm.get("handshake_ms", ""),
           "ok": 0, "error": res.get("error", "")}
    if res.get("ok"):
        res["error"] = verify(s, sm)
        res["ok"] = not res["error"]
        row["error"] = res["error"]
    row["ok"] = 1 if res.get("ok") else 0
    for i in range(1, maxpaths + 1):
        row["path%d_bytes" % i] = 0
    for p in sm.get("paths", []):
        iface = p.get("iface", "")
        i = p.get("testbed_path") or (int(iface[1:]) if iface[1:].isdigit()
                                      else p.get("path_id", 0) + 1)
        if i <= maxpaths:
            row["path%d_bytes" % i] += p.get("bytes_received", 0)
    for k, v in point["params"].items():
        row["param_" + k] = v
    for i in range(1, maxpaths + 1):
        row["link%d" % i] = point["links"].get(i, "")
    return row


def header_of(points, maxpaths):
    params = []
    for p in points:
        for k in p["params"]:
            if "param_" + k not in params:
                params.append("param_" + k)
    return (FIXED + ["path%d_bytes" % i for i in range(1, maxpaths + 1)] + params
            + ["link%d" % i for i in range(1, maxpaths + 1)])


def main(argv):
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[1])
    ap.add_argument("experiment", help="a file, or a name in testbed/experiments/")
    ap.add_argument("--reps", type=int, help="repetitions of each point (the file's reps)")
    ap.add_argument("--out", metavar="DIR", help="results (default testbed-results/NAME)")
    ap.add_argument("--resume", action="store_true",
                    help="skip the runs already in DIR/results.csv")
    ap.add_argument("--capture", action="store_true",
                    help="capture at the client and in each emulator (pcapng)")
    ap.add_argument("--qlog", action="store_true", help="qlog at both ends (qlog yes)")
    ap.add_argument("--points", type=int, help="run a sample of N points")
    ap.add_argument("--set", action="append", default=[], metavar="'KEY VALUE...'",
                    help="a last line for the experiment file, e.g. --set 'get 2MB'")
    ap.add_argument("--name", default="tbr%d" % (os.getpid() % 100000),
                    help="the testbed's name (namespaces NAME-c, NAME-s, NAME-rI)")
    ap.add_argument("--hosts", metavar="FILE",
                    help="run on the client and server hosts of FILE over ssh (docs/testbed.md)")
    ap.add_argument("--sshloginfile", metavar="FILE",
                    help="spread the runs over the runners of FILE with GNU parallel")
    ap.add_argument("--runner-testbed", metavar="PATH",
                    help="mpq-testbed on the runners (default: this one's path)")
    ap.add_argument("--only", action="append", metavar="RUN", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.hosts and a.sshloginfile:
        die("--hosts or --sshloginfile, not both", 2)
    path = experiment_path(a.experiment)
    overrides = list(a.set) + (["qlog yes"] if a.qlog else [])
    try:
        exp = experiment.parse(path, overrides)
        points = exp.points(a.points)
    except experiment.ExperimentError as e:
        die("%s: %s" % (path, e), 2)
    if a.points is not None and a.points < 1:
        die("--points: at least 1", 2)
    hosts = None
    if a.hosts:
        try:
            hosts = hostsfile.parse(a.hosts)
        except hostsfile.HostsError as e:
            die(str(e), 2)
        err, note = hostsfile.check(hosts, points)
        if err:
            die("%s: %s" % (a.hosts, err), 2)
        if note:
            print(note)
    elif not a.sshloginfile and os.geteuid() != 0:
        die("needs root (network namespaces); try: sudo testbed/mpq-testbed run ...")
    bindir = os.environ.get("BIN", os.path.join(HERE, "..", "build", "bin"))
    bindir = os.path.abspath(bindir)
    tools = () if a.sshloginfile or (hosts and not hosts.copy) else \
        ("mpq-server", "mpq-client") if hosts else ("mpq-server", "mpq-client", "mpq-linkemu")
    for tool in tools:
        if not os.access(os.path.join(bindir, tool), os.X_OK):
            die("no %s/%s (make, or BIN=DIR)" % (bindir, tool))
    out = os.path.abspath(a.out or os.path.join("testbed-results", exp.name))
    os.makedirs(os.path.join(out, "runs"), exist_ok=True)
    maxpaths = max(int(p["settings"]["paths"]) for p in points)
    for i, p in enumerate(points, 1):
        p["index"] = i
    reps = a.reps or int(exp.settings["reps"])
    # Repetition by repetition: a slow spell of the machine touches every
    # point once rather than one point's every repetition.
    runs = [(p, r) for r in range(1, reps + 1) for p in points]
    if a.only:
        runs = [(p, r) for p, r in runs if run_name(p, r) in a.only]
    csv_path = os.path.join(out, "results.csv")
    header = header_of(points, maxpaths)
    done = set()
    if os.path.exists(csv_path) and os.path.getsize(csv_path) > 0:
        if not a.resume:
            die("%s exists: --resume to go on with it, or another --out" % csv_path)
        with open(csv_path, newline="") as f:
            old = next(csv.reader(f), [])
            f.seek(0)
            rows = list(csv.DictReader(f))
        if old != header:
            die("%s has other columns than %s's: another --out" % (csv_path, exp.name))
        done = {r["run"] for r in rows}
    new_file = not done and not (os.path.exists(csv_path) and os.path.getsize(csv_path))

    if hosts:
        backend = HostsBackend(hosts, bindir)
    else:
        backend = LocalBackend(os.path.join(HERE, "mpq-testbed"), bindir, a.name)

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    # Also SIGINT: a shell's background job starts with it ignored.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    if a.sshloginfile:
        try:
            runners.spread(a, path, [run_name(p, r) for p, r in runs], done, out, csv_path,
                           header, new_file, PROG)
        except KeyboardInterrupt:
            print("%s: interrupted; %s --resume goes on" % (PROG, " ".join(sys.argv[1:])),
                  file=sys.stderr)
            return 130
        return draw_plots(exp, out, csv_path)
    skipped = sum(1 for p, r in runs if run_name(p, r) in done)
    if skipped:
        print("resume: %d of %d runs already in %s" % (skipped, len(runs), csv_path))
    varying = []  # the parameters that tell points apart, in file order
    for p in points:
        varying += [k for k in p["params"] if k not in varying]
    try:
        with open(csv_path, "a", newline="") as f:
            w = csv.DictWriter(f, fieldnames=header)
            if new_file:
                w.writeheader()
                f.flush()
            for n, (p, rep) in enumerate(runs, 1):
                run = run_name(p, rep)
                if run in done:
                    continue
                rundir = os.path.join(out, "runs", run)
                # What an interrupted attempt left (its qlogs) must not mix in.
                shutil.rmtree(rundir, ignore_errors=True)
                os.makedirs(rundir)
                res = backend.run(p, rundir, a.capture)
                if a.capture:
                    plots.capture_plots(bindir, rundir)
                row = row_of(exp, p, rep, run, res, maxpaths)
                w.writerow(row)
                f.flush()
                label = " ".join("%s=%s" % (k, p["params"][k]) for k in varying
                                 if k in p["params"])
                what = "%s in %s s, %s Mbit/s" % (human(row["bytes"]), row["seconds"],
                                                   row["goodput_mbps"]) \
                    if row["seconds"] != "" else "no summary,"
                print("[%d/%d] %s%s rep=%d: %s %s" % (
                    n, len(runs), exp.name, " " + label if label else "", rep, what,
                    "ok" if row["ok"] else "FAILED (%s)" % row["error"]), flush=True)
    except KeyboardInterrupt:
        backend.abort()
        print("%s: interrupted; %s --resume goes on" % (PROG, " ".join(sys.argv[1:])),
              file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    if hasattr(backend, "close"):
        backend.close()
    return draw_plots(exp, out, csv_path)


def draw_plots(exp, out, csv_path):
    made, notes = plots.draw(exp, out, csv_path)
    for n in notes:
        print("ratio %s" % n)
    print("results: %s; plots: %s" % (csv_path, " ".join(os.path.relpath(m, out)
                                                          for m in made) or "none"))
    return 0


def run_name(point, rep):
    return "p%03d-%s-r%d" % (point["index"], point["id"], rep)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
