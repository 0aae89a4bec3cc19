"""Experiment files of mpq-testbed run (docs/testbed.md "Experiment files").

parse(path) reads one into an Experiment; Experiment.points(n) expands its
sweeps, space-filling design and path orders into the points to run, each a
dict of settings, link specs and events with every $variable substituted.
A bad line raises ExperimentError naming the file and line.
"""
import hashlib
import itertools
import math
import random
import re

# Settings: name -> (default, check). A setting given several values (or
# through `sweep`) is swept: one point per value.
SETTINGS = {
    "paths": "2",
    "get": "20MB",
    "www": "",
    "sched": "minrtt",
    "stream-sched": "rr",
    "cc": "cubic",
    "io": "udp",
    "alpn": "hq-interop",
    "multipath": "yes",
    "transport": "quic",
    "reps": "1",
    "timeout": "120s",
    "qlog": "no",
    "seed": "",
    "client-args": "",
    "server-args": "",
}
CHOICES = {
    "sched": ("minrtt", "mrtt", "rr", "redundant", "backup", "ecf"),
    "stream-sched": ("rr", "prio", "sprio"),
    "cc": ("cubic", "newreno", "reno", "lia", "olia"),
    "io": ("udp", "xdp", "auto"),
    "alpn": ("hq-interop",),
    "multipath": ("yes", "no"),
    "transport": ("quic", "tcp", "mptcp"),
    "qlog": ("yes", "no"),
}
# Settings that take several words as one value (not a sweep).
WORDS = ("get", "client-args", "server-args")
UNITS = {"b": 1, "kb": 1000, "mb": 10**6, "gb": 10**9,
         "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30}


# mpq-linkemu's options and how many values each takes.
LINK_ARGS = {"delay": 1, "jitter": 1, "loss": 1, "ge": 1, "rate": 1, "trace": 1, "dup": 1,
             "queue": 1, "reorder": 0, "noreorder": 0, "down": 0, "up": 0}
DIRECTIONS = ("ab", "ba", "both")
# What limit_seconds() takes for a full packet, and how many times the
# time its model gives a run may take.
PACKET_BITS = 1450 * 8
LIMIT_FACTOR = 2


class ExperimentError(Exception):
    pass


def size_bytes(word):
    """'20MB' -> 20000000; None when WORD is not a size."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmMgG]i?[bB]|[bB])?", word)
    if not m:
        return None
    return int(float(m.group(1)) * UNITS[(m.group(2) or "b").lower()])


def seconds(word):
    """'2s', '500ms', '2' (s) -> seconds; None when WORD is no time."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|us)?", word)
    if not m:
        return None
    return float(m.group(1)) * {"ms": 1e-3, "us": 1e-6, "s": 1, None: 1}[m.group(2)]


def rate_bps(word):
    """'50mbit' -> 50000000 (bit/s); None when not a rate tc takes."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(kbit|mbit|gbit|bit)?", word.lower())
    if not m:
        return None
    return float(m.group(1)) * {"kbit": 1e3, "mbit": 1e6, "gbit": 1e9, "bit": 1, None: 1}[
        m.group(2)]


def link_options(spec, keep=LINK_ARGS):
    """SPEC (mpq-linkemu's link options) as {"ab": {...}, "ba": {...}} of
    the options in KEEP (option -> value, None for one without), and the
    others (with their values) in a list."""
    opts = {"ab": {}, "ba": {}}
    dirs = ("ab", "ba")
    rest = []
    words = spec.split()
    i = 0
    while i < len(words):
        w = words[i]
        if w in DIRECTIONS:
            dirs = ("ab", "ba") if w == "both" else (w,)
            i += 1
            continue
        n = LINK_ARGS.get(w, 0)
        val = words[i + 1] if n and i + 1 < len(words) else None
        if w in keep and (val is not None or not n):
            for d in dirs:
                opts[d][w] = val
        else:
            rest.append(" ".join(words[i:i + 1 + n]))
        i += 1 + n
    return opts, rest


def path_bps(spec):
    """The rate a download gets over a link of SPEC (the server sends on
    'ba'): its rate, or with loss p the loss-limited rate of Reno-like
    congestion control, sqrt(3/2) packets per RTT over sqrt(p) (Mathis et
    al. 1997; cubic does a little better), with the RTT of the two delays
    (below the link's rate the queue stays empty); None when unbounded."""
    o, _ = link_options(spec)
    best = rate_bps(o["ba"].get("rate") or "0") or None
    rtt = 0.0
    for d in ("ab", "ba"):
        w = o[d].get("delay") or "0"
        rtt += seconds(w) * (1e-3 if re.fullmatch(r"[\d.]+", w) else 1) if seconds(w) else 0
    w = o["ba"].get("loss") or "0"
    m = re.fullmatch(r"(\d+(?:\.\d+)?)(%?)", w)
    p = float(m.group(1)) / (100 if m.group(2) else 1) if m else 0
    if p > 0 and rtt > 0:
        mathis = PACKET_BITS / rtt * math.sqrt(1.5 / p)
        best = min(best, mathis) if best else mathis
    return best


def limit_seconds(point):
    """How long POINT's run may take: its timeout, or LIMIT_FACTOR times
    the download over the best path it uses (path_bps) when that is
    longer. A coupled multipath cc (lia, olia) takes no more than the best
    path would alone, so a multipath run is given the best path's time."""
    s = point["settings"]
    floor = seconds(s["timeout"])
    nbytes = sum(size_bytes(w) or 0 for w in s["get"].split())
    npaths = 1 if s["multipath"] != "yes" else int(s["paths"])
    rates = [path_bps(point["links"].get(i, "")) for i in range(1, npaths + 1)]
    if not nbytes or None in rates:
        return floor
    return max(floor, LIMIT_FACTOR * nbytes * 8 / max(rates))


class Experiment:
    def __init__(self, name):
        self.name = name
        self.settings = {}  # name -> its value (swept ones: the first)
        self.variables = {}  # $name -> its value (swept ones: the first)
        self.sweeps = []  # [((name...), [(value...)...])], in file order
        self.links = {}  # path -> spec with $variables
        self.events = []  # (seconds, path, spec)
        self.classes = []  # [(class name, [(var, lo, hi, unit)])]
        self.design_points = 0
        self.orders = False
        self.ratio = None  # (key, a, b): completion time with key=a over key=b
        self.lines = {}  # what -> line number, for errors found late

    def set(self, name, vals, ln):
        """NAME (a setting or a variable) takes VALS, the first for now."""
        if name in SETTINGS:
            check_setting(name, vals, ln)
            self.settings[name] = vals[0]
            self.lines[name] = ln
        elif re.fullmatch(r"[A-Za-z_]\w*", name):
            self.variables[name] = vals[0]
        else:
            raise ExperimentError("line %d: '%s' is no variable name" % (ln, name))

    def sweep(self, names, vals):
        """NAMES take VALS in turn (one point each); a later sweep or
        setting of a name replaces what swept it before."""
        self.sweeps = [(n, v) for n, v in self.sweeps if not set(n) & set(names)]
        if len(vals) > 1:
            self.sweeps.append((names, vals))

    def _axes(self):
        """The swept names and their values, in file order: [(names,
        [values...])], a value a tuple with one word per name (sweep a,b
        zips a and b); a setting's name as is, a variable's with $."""
        axes = []
        for names, vals in self.sweeps:
            tagged = tuple(n if n in SETTINGS else "$" + n for n in names)
            axes.append((tagged, vals))
        return axes

    def axis_of(self, name):
        """The names swept together with NAME (itself included)."""
        for names, _ in self.sweeps:
            if name in names:
                return names
        return (name,)

    def _design(self, limit):
        """[(class, {var: (value, word)})] of the space-filling design; with
        LIMIT, that many in all, shared out over the classes."""
        if not self.classes:
            return [(None, {})]
        out = []
        nclass = len(self.classes)
        for ci, (cname, ranges) in enumerate(self.classes):
            n = self.design_points
            if limit is not None:
                n = limit // nclass + (1 if ci < limit % nclass else 0)
            if n <= 0:
                continue
            seed = int(hashlib.sha256(("%s/%s" % (self.name, cname)).encode()).hexdigest()[:8], 16)
            for unit_pt in wsp(n, len(ranges), seed):
                vals = {}
                for (var, lo, hi, unit), u in zip(ranges, unit_pt):
                    x = lo + u * (hi - lo)
                    vals[var] = (x, "%.4g%s" % (x, unit))
                out.append((cname, vals))
        return out

    def points(self, limit=None):
        """Every point: a dict with 'params' (what varies, for the CSV and
        the progress line), 'settings', 'links' {path: spec}, 'events'."""
        axes = self._axes()
        design = self._design(limit if self.classes else None)
        orders = ("12", "21") if self.orders else ("12",)
        pts = []
        for (cname, dvals), order, combo in itertools.product(
                design, orders, itertools.product(*[v for _, v in axes])):
            params = {}
            if cname is not None:
                params["class"] = cname
            for var, (x, _) in dvals.items():
                params[var] = "%.4g" % x
            if self.orders:
                params["order"] = order
            env = dict(self.variables)
            env.update({var: word for var, (_, word) in dvals.items()})
            settings = dict(self.settings)
            for (names, _), values in zip(axes, combo):
                for name, value in zip(names, values):
                    params[name.lstrip("$")] = value
                    if name.startswith("$"):
                        env[name[1:]] = value
                    else:
                        settings[name] = value
            settings = {k: subst(v, env, self.lines.get(k)) for k, v in settings.items()}
            links = {p: subst(s, env, self.lines.get("link %d" % p)) for p, s in self.links.items()}
            events = [(t, p, subst(s, env, ln)) for t, p, s, ln in self.events]
            if order == "21":
                links = {1: links.get(2, ""), 2: links.get(1, ""),
                         **{p: s for p, s in links.items() if p > 2}}
                events = [(t, {1: 2, 2: 1}.get(p, p), s) for t, p, s in events]
            pts.append({"params": params, "settings": settings, "links": links,
                        "events": events})
        if limit is not None and not self.classes and limit < len(pts):
            # A sample spread evenly over the points.
            pts = [pts[(i * len(pts)) // limit] for i in range(limit)]
        for p in pts:
            key = repr(sorted(p["settings"].items())) + repr(sorted(p["links"].items())) \
                + repr(p["events"])
            p["id"] = hashlib.sha256(key.encode()).hexdigest()[:6]
        return pts


def subst(text, env, line):
    def one(m):
        name = m.group(1) or m.group(2)
        if name not in env:
            raise ExperimentError("line %s: no variable $%s (sweep, let or vary it first)"
                                  % (line, name))
        return env[name]
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", one, text)


def wsp(n, dim, seed):
    """N points of [0,1]^DIM spread by the WSP algorithm (Santiago et al.,
    as the CoNEXT'17 study used): from a seeded random candidate set, keep
    a point, drop the candidates closer than dmin, move to the nearest
    left; dmin is bisected so that N or more are kept (the first N)."""
    rng = random.Random(seed)
    m = max(200, min(2000, 20 * n))
    cand = [[rng.random() for _ in range(dim)] for _ in range(m)]
    centre = min(range(m), key=lambda i: sum((x - 0.5) ** 2 for x in cand[i]))

    def select(dmin):
        d2 = dmin * dmin
        left = set(range(m))
        cur = centre
        kept = [cur]
        left.discard(cur)
        while left:
            c = cand[cur]
            dist = {i: sum((a - b) ** 2 for a, b in zip(cand[i], c)) for i in left}
            left = {i for i in left if dist[i] >= d2}
            if not left:
                break
            cur = min(left, key=dist.__getitem__)
            kept.append(cur)
            left.discard(cur)
        return kept

    lo, hi = 0.0, math.sqrt(dim)
    best = select(lo)
    for _ in range(14):
        mid = (lo + hi) / 2
        kept = select(mid)
        if len(kept) >= n:
            lo, best = mid, kept
        else:
            hi = mid
    return [cand[i] for i in best[:n]]


def check_setting(key, values, ln):
    if key in CHOICES:
        for v in values:
            if "$" not in v and v not in CHOICES[key]:
                raise ExperimentError("line %d: %s: '%s' is not one of %s"
                                      % (ln, key, v, " ".join(CHOICES[key])))
    for v in values:
        if "$" in v:
            continue
        if key in ("paths", "reps") and not (v.isdigit() and 1 <= int(v) <= 250):
            raise ExperimentError("line %d: %s: a number from 1 to 250, not '%s'" % (ln, key, v))
        if key == "timeout" and not seconds(v):
            raise ExperimentError("line %d: timeout: a time (60s, 500ms), not '%s'" % (ln, v))
        if key == "seed" and not v.isdigit():
            raise ExperimentError("line %d: seed: a number, not '%s'" % (ln, v))
        if key == "get":
            for w in v.split():
                if size_bytes(w) is None and not w.startswith("/"):
                    raise ExperimentError("line %d: get: a size (20MB) or a /path, not '%s'"
                                          % (ln, w))


def parse_text(text, name):
    exp = Experiment(name)
    cls = None
    for ln, raw in enumerate(text.splitlines(), 1):
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        key, args = words[0], words[1:]
        if key == "at":
            if len(args) < 4 or seconds(args[0]) is None or args[1] != "link" \
                    or not args[2].isdigit():
                raise ExperimentError("line %d: at T link I OPTIONS... (at 2s link 2 down)" % ln)
            exp.events.append((seconds(args[0]), int(args[2]), " ".join(args[3:]), ln))
        elif key == "link":
            if len(args) < 2 or not args[0].isdigit() or not 1 <= int(args[0]) <= 250:
                raise ExperimentError("line %d: link I OPTIONS... (link 1 delay 10ms rate 50mbit)"
                                      % ln)
            p = int(args[0])
            exp.links[p] = (exp.links.get(p, "") + " " + " ".join(args[1:])).strip()
            exp.lines["link %d" % p] = ln
        elif key == "let":
            if len(args) < 2:
                raise ExperimentError("line %d: let NAME VALUE..." % ln)
            exp.set(args[0], [" ".join(args[1:])], ln)
        elif key == "sweep":
            names = args[0].split(",") if args else []
            vals = [tuple(v.split(",")) for v in args[1:]]
            if not vals or any(len(v) != len(names) for v in vals):
                raise ExperimentError("line %d: sweep NAME VALUE... or sweep A,B VA,VB..."
                                      " (a value for each name)" % ln)
            for i, n in enumerate(names):
                exp.set(n, [v[i] for v in vals], ln)
            exp.sweep(tuple(names), vals)
        elif key in SETTINGS:
            if not args:
                raise ExperimentError("line %d: %s needs a value" % (ln, key))
            vals = [" ".join(args)] if key in WORDS else args
            exp.set(key, vals, ln)
            exp.sweep((key,), [(v,) for v in vals])
        elif key == "design":
            if len(args) != 2 or args[0] != "wsp" or not args[1].isdigit() or int(args[1]) < 1:
                raise ExperimentError("line %d: design wsp POINTS (points per class)" % ln)
            exp.design_points = int(args[1])
        elif key == "class":
            if len(args) != 1:
                raise ExperimentError("line %d: class NAME" % ln)
            cls = (args[0], [])
            exp.classes.append(cls)
        elif key == "vary":
            try:
                lo, hi = float(args[1]), float(args[2])
            except (IndexError, ValueError):
                raise ExperimentError("line %d: vary NAME LO HI [UNIT] (vary bw1 0.1 100 mbit)"
                                      % ln) from None
            if len(args) > 4 or lo > hi:
                raise ExperimentError("line %d: vary NAME LO HI [UNIT], LO <= HI" % ln)
            if not exp.design_points:
                raise ExperimentError("line %d: vary without a design wsp line before it" % ln)
            if cls is None:
                cls = ("all", [])
                exp.classes.append(cls)
            cls[1].append((args[0], lo, hi, args[3] if len(args) == 4 else ""))
        elif key == "order":
            if args not in (["both"], ["12"]):
                raise ExperimentError("line %d: order both | order 12" % ln)
            exp.orders = args == ["both"]
        elif key == "ratio":
            if len(args) != 3 or not any(args[0] in n for n, _ in exp.sweeps):
                raise ExperimentError("line %d: ratio KEY A B (a swept setting or variable)" % ln)
            exp.ratio = tuple(args)
        else:
            raise ExperimentError("line %d: unknown keyword '%s'" % (ln, key))
    for k, v in SETTINGS.items():
        exp.settings.setdefault(k, v)
    npaths = [int(v[0]) for n, vals in exp.sweeps if n == ("paths",) for v in vals]
    npaths = max(npaths or [int(exp.settings["paths"])])
    for p in list(exp.links) + [e[1] for e in exp.events]:
        if p > npaths:
            raise ExperimentError("line %d: link %d, but paths %d"
                                  % (exp.lines.get("link %d" % p, 0), p, npaths))
    if exp.classes and not all(r for _, r in exp.classes):
        raise ExperimentError("a class without vary lines")
    return exp


def parse(path, overrides=()):
    """The experiment in PATH, with each 'KEY VALUE...' of OVERRIDES as a
    last line."""
    name = re.sub(r"\.[^./]*$", "", path.rsplit("/", 1)[-1])
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise ExperimentError(e.strerror) from None
    nlines = len(text.splitlines())
    text += "\n" + "\n".join(overrides)
    try:
        return parse_text(text, name)
    except ExperimentError as e:
        m = re.match(r"line (\d+): (.*)", str(e))
        if m and int(m.group(1)) > nlines + 1:
            raise ExperimentError("--set %s: %s" % (overrides[int(m.group(1)) - nlines - 2],
                                                    m.group(2))) from None
        raise
