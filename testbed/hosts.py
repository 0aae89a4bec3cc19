"""Hosts files of mpq-testbed run --hosts (docs/testbed.md "Real hosts").

parse(path) reads one into a Hosts: the client and server hosts (ssh
destinations with their options), the paths (an interface on each host and
the server's address on it), where the tools are, and what to do with the
experiment's links: `tc` applies their rate and queue with tbf at each
host's egress, and a path down (or up) and rate or queue changes at time t
by replacing that root qdisc; `real` applies nothing. check(hosts, points)
says in one line why an experiment cannot run as the hosts file asks (link
options or events that need an emulator or netem, which hosts' kernels may
lack). tc_schedule(hosts, point) is what links tc does in one run.
"""
import ipaddress
import re

from experiment import link_options, rate_bps, seconds, size_bytes

# Link options tc can apply without netem (tbf's rate and queue; down: a
# pfifo of limit 0, which drops every packet), also in `at` events.
TC_OPTIONS = ("rate", "queue", "down", "up")


class HostsError(Exception):
    pass


class Host:
    def __init__(self, role, dest):
        self.role = role  # "client" or "server"
        self.dest = dest  # [user@]host
        self.options = []  # ssh -o KEY=VALUE

    def ssh_options(self):
        return [w for o in self.options for w in ("-o", o)]

    def scp_target(self, path):
        """HOST:PATH for scp, an IPv6 address in brackets."""
        user, _, host = self.dest.rpartition("@")
        if ":" in host:
            host = "[%s]" % host
        return "%s%s:%s" % (user + "@" if user else "", host, path)


class Hosts:
    def __init__(self):
        self.client = None
        self.server = None
        self.paths = {}  # I -> (client iface, server iface, server address)
        self.bin = None
        self.copy = False
        self.workdir = "/tmp"
        self.port = 4433
        self.tc = True  # apply rate and queue with tbf
        self.real = False  # the links are real: what is not applied is ignored

    def host(self, role):
        return self.client if role == "client" else self.server


def unbracket(dest):
    """[USER@]HOST with an IPv6 HOST's brackets taken off (ssh wants none)."""
    user, at, host = dest.rpartition("@")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    return user + at + host


def parse(path):
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise HostsError("%s: %s" % (path, e.strerror)) from None
    try:
        return parse_text(text)
    except HostsError as e:
        raise HostsError("%s: %s" % (path, e)) from None


def parse_text(text):
    h = Hosts()
    links_seen = False
    for ln, raw in enumerate(text.splitlines(), 1):
        words = raw.split("#", 1)[0].split()
        if not words:
            continue
        key, args = words[0], words[1:]
        if key in ("client", "server"):
            if not args:
                raise HostsError("line %d: %s [USER@]HOST [port N] [user U] [identity FILE]"
                                 " [option KEY=VALUE]..." % (ln, key))
            host = Host(key, unbracket(args[0]))
            rest = args[1:]
            if len(rest) % 2:
                raise HostsError("line %d: '%s' needs a value" % (ln, rest[-1]))
            for k, v in zip(rest[::2], rest[1::2]):
                if k == "port" and v.isdigit():
                    host.options.append("Port=" + v)
                elif k == "user":
                    host.options.append("User=" + v)
                elif k == "identity":
                    host.options.append("IdentityFile=" + v)
                elif k == "option" and re.fullmatch(r"[A-Za-z]+=\S+", v):
                    host.options.append(v)
                else:
                    raise HostsError("line %d: '%s %s': port N, user U, identity FILE or"
                                     " option KEY=VALUE" % (ln, k, v))
            setattr(h, key, host)
        elif key == "path":
            if len(args) != 6 or not args[0].isdigit() or args[1] != "client" \
                    or args[3] != "server" or not 1 <= int(args[0]) <= 250:
                raise HostsError("line %d: path I client IFACE server IFACE SERVER_ADDRESS"
                                 % ln)
            try:
                addr = str(ipaddress.ip_address(args[5].strip("[]")))
            except ValueError:
                raise HostsError("line %d: '%s': the server's address on the path, IPv4 or"
                                 " IPv6" % (ln, args[5])) from None
            h.paths[int(args[0])] = (args[2], args[4], addr)
        elif key == "bin":
            if len(args) not in (1, 2) or not args[0].startswith("/") \
                    or args[1:] not in ([], ["copy"]):
                raise HostsError("line %d: bin /DIR [copy]" % ln)
            h.bin, h.copy = args[0], args[1:] == ["copy"]
        elif key == "workdir":
            if len(args) != 1 or not args[0].startswith("/"):
                raise HostsError("line %d: workdir /DIR" % ln)
            h.workdir = args[0]
        elif key == "port":
            if len(args) != 1 or not args[0].isdigit() or not 1 <= int(args[0]) <= 65535:
                raise HostsError("line %d: port N (1 to 65535)" % ln)
            h.port = int(args[0])
        elif key == "links":
            if not args or not set(args) <= {"tc", "real"}:
                raise HostsError("line %d: links tc | links real | links tc real" % ln)
            h.tc, h.real, links_seen = "tc" in args, "real" in args, True
        else:
            raise HostsError("line %d: unknown keyword '%s'" % (ln, key))
    for role in ("client", "server"):
        if h.host(role) is None:
            raise HostsError("no %s line" % role)
    if not h.paths:
        raise HostsError("no path line")
    if sorted(h.paths) != list(range(1, len(h.paths) + 1)):
        raise HostsError("paths must be numbered 1 to %d" % len(h.paths))
    if h.bin is None:
        raise HostsError("no bin line (where mpq-server and mpq-client are on the hosts)")
    if not links_seen:
        h.tc = True
    return h


def tc_plan(spec):
    """SPEC (mpq-linkemu's link options) as {"ab": {...}, "ba": {...}}
    of what tc applies (rate, queue, down: True or False), and the
    options it cannot."""
    plan, rest = link_options(spec, TC_OPTIONS)
    for opts in plan.values():
        if "down" in opts or "up" in opts:
            opts["down"] = "up" not in opts
            opts.pop("up", None)
    return plan, rest


def tbf_args(opts):
    """tc's words for a tbf of OPTS ({rate, queue}); None for no qdisc
    (no rate, or rate 0)."""
    rate = rate_bps(opts.get("rate", "0"))
    if not rate:
        return None
    # A burst of at least a tick's worth at HZ 250 and two full frames.
    args = ["rate", "%dbit" % rate, "burst", str(max(int(rate / 8 * 0.004), 3200))]
    q = opts.get("queue", "100ms")  # mpq-linkemu's default queue
    if seconds(q) is not None and not q.isdigit():
        args += ["latency", "%dus" % max(1, seconds(q) * 1e6)]
    else:
        args += ["limit", str(size_bytes(q))]
    return args


def root_qdisc(opts):
    """tc's words for the root qdisc of a direction in state OPTS ({rate,
    queue, down}): a pfifo of limit 0 when down (it drops every packet,
    and replacing it drops what the tbf held, as the emulator's down), a
    tbf for a rate, None for none."""
    if opts.get("down"):
        return ["pfifo", "limit", "0"]
    args = tbf_args(opts)
    return ["tbf"] + args if args else None


def tc_schedule(h, point):
    """What links tc does in a run of POINT: {(role, iface): [(t, words)]},
    per path interface it touches the root qdisc at the start (t None)
    and after each event at time t (seconds from the client's start), in
    time order; words are root_qdisc's (None: no qdisc)."""
    out = {}
    events = sorted(point["events"], key=lambda e: e[0])  # stable: file order at one t
    for i in range(1, int(point["settings"]["paths"]) + 1):
        state, _ = tc_plan(point["links"].get(i, ""))
        ends = {"ab": ("client", h.paths[i][0]), "ba": ("server", h.paths[i][1])}
        steps = {d: [(None, root_qdisc(state[d]))] for d in ends}
        for t, p, spec in events:
            if p != i:
                continue
            change, _ = tc_plan(spec)
            for d in ends:
                if change[d]:
                    state[d] = dict(state[d], **change[d])
                    steps[d].append((t, root_qdisc(state[d])))
        for d, key in ends.items():
            if len(steps[d]) > 1 or steps[d][0][1] is not None:
                out.setdefault(key, []).extend(steps[d])
    return out


def tc_errors(i, spec):
    """Why tc cannot take path I's link options SPEC ('' when it can)."""
    plan, _ = tc_plan(spec)
    for d in ("ab", "ba"):
        if "rate" in plan[d] and rate_bps(plan[d]["rate"]) is None:
            return "link %d: rate %s: tc takes 50mbit, 500kbit, 1gbit or bit/s" \
                % (i, plan[d]["rate"])
        q = plan[d].get("queue")
        if q and seconds(q) is None and size_bytes(q) is None:
            return "link %d: queue %s: a size or a time" % (i, q)
    return ""


def check(h, points):
    """One line saying why POINTS cannot run on H as its links line asks,
    else ''; also the note to print when links are real and some of the
    experiment is ignored ('' when nothing is)."""
    ignored = []

    def ignore(what):
        if what not in ignored:
            ignored.append(what)

    for p in points:
        npaths = int(p["settings"]["paths"])
        if npaths > len(h.paths):
            return "the experiment has %d paths, the hosts file %d" % (npaths, len(h.paths)), ""
        applied = []  # what tc applies, as the file says it
        for i, spec in sorted(p["links"].items()):
            if i > npaths:
                continue
            rest = [spec] if spec else []
            if h.tc:
                err = tc_errors(i, spec)
                if err:
                    return err, ""
                plan, rest = tc_plan(spec)
                if any(plan.values()):
                    applied.append("link %d %s" % (i, spec))
            for r in rest:
                ignore("link %d %s" % (i, r))
        for t, i, spec in p["events"]:
            rest = [spec]
            if h.tc:
                err = tc_errors(i, spec)
                if err:
                    return "at %gs %s" % (t, err), ""
                plan, rest = tc_plan(spec)
                if any(plan.values()):
                    applied.append("at %gs link %d %s" % (t, i, spec))
            for r in rest:
                ignore("at %gs link %d %s" % (t, i, r))
        if p["settings"]["io"] != "udp" and h.tc and tc_schedule(h, p):
            # AF_XDP transmits straight to the driver, past every qdisc.
            what = "'io %s' sends with AF_XDP, past the hosts' qdiscs, so tc cannot apply" \
                " '%s'" % (p["settings"]["io"], applied[0])
            if not h.real:
                return what + "; io udp, or 'links real' in the hosts file", ""
            ignore("%s (io %s)" % (applied[0], p["settings"]["io"]))
    if ignored and not h.real:
        return ("'%s' needs netem or the emulator, which the hosts' tc may lack (links tc"
                " applies rate, queue, down and up, also at time t); on real links, 'links"
                " tc real' (or 'links real') in the hosts file runs the experiment with it"
                " ignored" % ignored[0]), ""
    if ignored:
        return "", "links real: ignored: " + "; ".join(ignored)
    return "", ""
