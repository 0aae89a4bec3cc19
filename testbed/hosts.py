"""Hosts files of mpq-testbed run --hosts (docs/testbed.md "Real hosts").

parse(path) reads one into a Hosts: the client and server hosts (ssh
destinations with their options), the paths (an interface on each host and
the server's address on it), where the tools are, and what to do with the
experiment's links: `tc` applies their rate and queue with tbf at each
host's egress, `real` applies nothing. check(hosts, points) says in one
line why an experiment cannot run as the hosts file asks (link options or
events that need an emulator or netem, which hosts' kernels may lack).
"""
import ipaddress
import re

from experiment import link_options, rate_bps, seconds, size_bytes

# Link options tbf can apply.
TC_OPTIONS = ("rate", "queue")


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
    of what tbf applies (rate, queue), and the options it cannot."""
    return link_options(spec, TC_OPTIONS)


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


def check(h, points):
    """One line saying why POINTS cannot run on H as its links line asks,
    else ''; also the note to print when links are real and some of the
    experiment is ignored ('' when nothing is)."""
    ignored = []
    for p in points:
        npaths = int(p["settings"]["paths"])
        if npaths > len(h.paths):
            return "the experiment has %d paths, the hosts file %d" % (npaths, len(h.paths)), ""
        for i, spec in sorted(p["links"].items()):
            if i > npaths:
                continue
            if not h.tc:
                rest = [spec] if spec else []
            else:
                plan, rest = tc_plan(spec)
                for d in ("ab", "ba"):
                    if "rate" in plan[d] and rate_bps(plan[d]["rate"]) is None:
                        return "link %d: rate %s: tc takes 50mbit, 500kbit, 1gbit or bit/s" \
                            % (i, plan[d]["rate"]), ""
                    q = plan[d].get("queue")
                    if q and seconds(q) is None and size_bytes(q) is None:
                        return "link %d: queue %s: a size or a time" % (i, q), ""
            for r in rest:
                if "link %d %s" % (i, r) not in ignored:
                    ignored.append("link %d %s" % (i, r))
        for t, i, spec in p["events"]:
            ev = "at %gs link %d %s" % (t, i, spec)
            if ev not in ignored:
                ignored.append(ev)
    if ignored and not h.real:
        return ("'%s' needs netem or the emulator, which the hosts' tc may lack; on real"
                " links, 'links tc real' (or 'links real') in the hosts file runs the"
                " experiment with it ignored" % ignored[0]), ""
    if ignored:
        return "", "links real: ignored: " + "; ".join(ignored)
    return "", ""
