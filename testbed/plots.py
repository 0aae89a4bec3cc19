"""The plots of mpq-testbed run, drawn by gnuplot as SVG and PNG in the
results directory: completion.svg (completion time per configuration),
ratio-cdf.svg (with a `ratio` line: the CDF of completion-time ratios per
class), and per point with qlogs, timeline-RUN.svg (per-path throughput,
congestion window and RTT over time, from the run's qlogs). Each plot's
data and gnuplot script stay next to it.
"""
import csv
import glob
import json
import os
import shutil
import subprocess

BIN_S = 0.1  # throughput bins


def gnuplot(out, script, stem, body, size="1000,500"):
    """Writes SCRIPT (the plot commands BODY rendered to STEM.svg, then
    STEM.png) and runs gnuplot on it in OUT; the images made."""
    with open(os.path.join(out, script), "w") as f:
        f.write("set terminal svg size %s dynamic\nset output '%s.svg'\n%s\n" % (size, stem, body))
        f.write("set terminal pngcairo size %s\nset output '%s.png'\n%s\n" % (size, stem, body))
    if not shutil.which("gnuplot"):
        return []
    r = subprocess.run(["gnuplot", script], cwd=out, capture_output=True, text=True)
    if r.returncode:
        print("plots: gnuplot %s: %s" % (script, r.stderr.strip().splitlines()[-1:]))
        return []
    return [os.path.join(out, stem + e) for e in (".svg", ".png")]


def quote(s):
    return s.replace("\\", "").replace("'", "").replace('"', "").replace("_", "\\\\_")


def label_of(row, keys):
    return " ".join("%s=%s" % (k[len("param_"):], row[k]) for k in keys if row[k]) \
        or row["experiment"]


def completion(out, rows, keys):
    points = {}
    for r in rows:
        points.setdefault(int(r["point"]), (label_of(r, keys), []))
        if r["ok"] == "1":
            points[int(r["point"])][1].append(float(r["seconds"]))
    with open(os.path.join(out, "completion.dat"), "w") as f:
        f.write("# point seconds (one line per ok run) label\n")
        for i, (label, secs) in sorted(points.items()):
            for s in secs:
                f.write("%d %.4f \"%s\"\n" % (i, s, quote(label)))
    with open(os.path.join(out, "completion-mean.dat"), "w") as f:
        f.write("# point mean_seconds label\n")
        for i, (label, secs) in sorted(points.items()):
            if secs:
                f.write("%d %.4f \"%s\"\n" % (i, sum(secs) / len(secs), quote(label)))
    # Labels under the axis when they fit, else point numbers (the labels
    # are in the data files).
    fit = len(points) <= 24 and max(len(lb) for lb, _ in points.values()) <= 40
    xt = "xticlabels(3)" if fit else "1"
    secs = [x for _, ss in points.values() for x in ss]
    if not secs:
        return []  # no run was ok: nothing to draw
    logy = "set logscale y\n" if secs and min(secs) > 0 and max(secs) > 20 * min(secs) else \
        "set yrange [0:*]\n"
    body = ("set title 'completion time per configuration (%d runs ok)'\n"
            "set ylabel 'seconds'\nset xlabel '%s'\nset grid ytics\nset key below\n"
            "%sset xrange [0.5:%d.5]\nset xtics rotate by -30 font ',9'\n"
            "plot 'completion.dat' using 1:2 with points pt 7 ps 0.6 title 'run', "
            "'completion-mean.dat' using 1:2:%s with points pt 5 ps 1.2 title 'mean'\n"
            % (len(secs), "configuration" if fit else "point (completion-mean.dat names each)",
               logy, max(points), xt))
    return gnuplot(out, "completion.gp", "completion", body, "1000,600")


def ratio_cdf(out, rows, ratio, together):
    """Completion time with KEY=A over KEY=B of the runs alike in all else
    (but the names swept TOGETHER with KEY), per class."""
    key, a, b = ratio
    col = "param_" + key
    skip = {"param_" + n for n in together}
    by = {}
    for r in rows:
        if r.get(col) not in (a, b) or r["ok"] != "1":
            continue
        match = tuple(sorted((k, v) for k, v in r.items()
                             if k.startswith("param_") and k not in skip)) + (r["rep"],)
        by.setdefault(match, {})[r[col]] = (float(r["seconds"]), r.get("param_class", "all"))
    classes = {}
    for pair in by.values():
        if a in pair and b in pair and pair[b][0] > 0:
            classes.setdefault(pair[a][1], []).append(pair[a][0] / pair[b][0])
    if not classes:
        return [], []
    notes = []
    for cls, vals in sorted(classes.items()):
        v = sorted(vals)
        med = (v[(len(v) - 1) // 2] + v[len(v) // 2]) / 2
        notes.append("%s: %d pairs, median %s=%s/%s=%s time ratio %.2f, below 1 in %d"
                     % (cls, len(v), key, a, key, b, med, sum(1 for x in v if x < 1)))
    plots = []
    with open(os.path.join(out, "ratio-cdf.dat"), "w") as f:
        f.write("# per class (a block each): ratio %s=%s / %s=%s, cumulative fraction\n"
                % (key, a, key, b))
        for i, (cls, vals) in enumerate(sorted(classes.items())):
            vals.sort()
            f.write("# %s\n" % cls)
            for k, v in enumerate(vals, 1):
                f.write("%.5f %.5f\n" % (v, k / len(vals)))
            f.write("\n\n")
            plots.append("'ratio-cdf.dat' index %d using 1:2 with steps lw 2 title '%s (%d)'"
                         % (i, quote(cls), len(vals)))
    body = ("set title 'completion time, %s %s over %s %s (< 1: %s %s faster)'\n"
            "set xlabel 'completion-time ratio'\nset ylabel 'CDF'\nset logscale x\n"
            "set yrange [0:1]\nset grid\nset arrow from 1, graph 0 to 1, graph 1 nohead dt 2\n"
            "set key bottom right\nplot %s\n"
            % (key, a, key, b, key, a, ", ".join(plots)))
    return gnuplot(out, "ratio-cdf.gp", "ratio-cdf", body), notes


def qlog_events(path):
    with open(path, errors="replace") as f:
        for rec in f.read().split("\x1e"):
            rec = rec.strip()
            if rec.startswith("{\"time\""):
                try:
                    yield json.loads(rec)
                except ValueError:
                    continue


def timeline(out, rundir, run):
    """The run's per-path throughput (client qlog), cwnd and RTT (server
    qlog, the sender of a download) as data in RUNDIR and a plot in OUT."""
    cl = glob.glob(os.path.join(rundir, "qlog", "*_client.sqlog"))
    sv = glob.glob(os.path.join(rundir, "qlog", "*_server.sqlog"))
    if not cl or not sv:
        return []
    bins = {}
    for e in qlog_events(cl[0]):
        if e.get("name") == "quic:packet_received":
            d = e.get("data", {})
            p = d.get("path_id", 0)
            b = int(e["time"] / 1000 / BIN_S)
            bins.setdefault(p, {})
            bins[p][b] = bins[p].get(b, 0) + d.get("raw", {}).get("length", 0)
    metrics = {}
    for e in qlog_events(sv[0]):
        if e.get("name") == "quic:recovery_metrics_updated":
            d = e.get("data", {})
            metrics.setdefault(d.get("path_id", 0), []).append(
                (e["time"] / 1000, d.get("congestion_window"), d.get("smoothed_rtt"),
                 d.get("latest_rtt")))
    rel = os.path.relpath(rundir, out)
    tp, cw, rt = [], [], []
    for p, bb in sorted(bins.items()):
        name = "throughput-path%d.dat" % p
        with open(os.path.join(rundir, name), "w") as f:
            f.write("# time_s Mbit/s received on path %d (UDP payload, %g s bins)\n" % (p, BIN_S))
            for b in range(0, max(bb) + 1):
                f.write("%.1f %.3f\n" % (b * BIN_S, bb.get(b, 0) * 8 / BIN_S / 1e6))
        tp.append("'%s/%s' using 1:2 with steps title 'path %d'" % (rel, name, p))
    for p, m in sorted(metrics.items()):
        name = "metrics-path%d.dat" % p
        with open(os.path.join(rundir, name), "w") as f:
            f.write("# time_s cwnd_bytes smoothed_rtt_ms latest_rtt_ms (server, path %d)\n" % p)
            for t, c, s, lat in m:
                f.write("%.4f %s %s %s\n" % (t, c if c is not None else "?",
                                             s if s is not None else "?",
                                             lat if lat is not None else "?"))
        cw.append("'%s/%s' using 1:($2/1000) with steps title 'path %d'" % (rel, name, p))
        rt.append("'%s/%s' using 1:3 with lines title 'path %d srtt'" % (rel, name, p))
    if not tp or not cw:
        return []
    body = ("set multiplot layout 3,1 title '%s'\nset grid\nset key top right\n"
            "set xlabel 'seconds'\nset xrange [0:*]\nset yrange [0:*]\n"
            "set ylabel 'Mbit/s'\nset title 'throughput per path (client, received)'\nplot %s\n"
            "set ylabel 'kB'\nset title 'congestion window (server)'\nplot %s\n"
            "set ylabel 'ms'\nset title 'smoothed RTT (server)'\nplot %s\n"
            "unset multiplot\n" % (quote(run), ", ".join(tp), ", ".join(cw), ", ".join(rt)))
    return gnuplot(out, "timeline-%s.gp" % run, "timeline-" + run, body, "1000,1000")


def capture_plots(bindir, rundir):
    """With --capture: mpq-trace summary --plot of the client's capture in
    RUNDIR/trace (per-path throughput and capture-point RTT, SVG and PNG;
    its text summary in summary.txt); the images made."""
    cap = os.path.join(rundir, "client.pcapng")
    if not os.path.exists(cap):
        return []
    tdir = os.path.join(rundir, "trace")
    os.makedirs(tdir, exist_ok=True)
    with open(os.path.join(tdir, "summary.txt"), "w") as f:
        subprocess.run([os.path.join(bindir, "mpq-trace"), "summary", cap, "--plot", tdir],
                       stdout=f, stderr=subprocess.STDOUT)
    return sorted(glob.glob(os.path.join(tdir, "*.svg")))


def draw(exp, out, csv_path):
    """The plots made, and lines that summarize the ratios."""
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    notes = []
    if not rows:
        return [], notes
    keys = [k for k in rows[0] if k.startswith("param_")
            and len({r[k] for r in rows}) > 1]
    made = completion(out, rows, keys)
    if exp.ratio:
        images, notes = ratio_cdf(out, rows, exp.ratio, exp.axis_of(exp.ratio[0]))
        made += images
    seen = set()
    for r in rows:
        if r["ok"] == "1" and r["point"] not in seen:
            tl = timeline(out, os.path.join(out, "runs", r["run"]), r["run"])
            if tl:
                seen.add(r["point"])
                made += tl
    return made, notes
