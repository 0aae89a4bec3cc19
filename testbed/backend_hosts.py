"""One run of an experiment point on two real hosts over SSH (mpq-testbed
run --hosts; the hosts file: hosts.py). Per run: a scratch directory on
each host, the root qdiscs of links tc (hosts.tc_schedule: tbf for a
rate, a pfifo of limit 0 for a path down), mpq-server started on the
server host in its own session, mpq-client --json run on the client host
with a script on each host that changes those qdiscs at the events'
times (the server's let go when the client starts), the server stopped
(its qlogs are written as it exits), the files fetched back with scp,
then the qdiscs and directories removed. Every remote process is stopped
by its process group, also when the run fails or is interrupted (abort).
A batch first sweeps up what the runs of a driver on this machine that
was killed (SIGKILL) left on the hosts (_sweep).

ssh runs with BatchMode (no password prompts), a ConnectTimeout, and one
ControlMaster connection per host for the whole batch (close() ends them).
"""
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import tempfile
import threading
import time

import hosts as hostsfile
from experiment import limit_seconds, size_bytes

PIDS = ".mpq-testbed-pids"  # in a run's remote directory: one file per process group
TCFILE = ".mpq-testbed-tc"  # and there, the interfaces whose root qdisc the run sets
# This machine's name in the runs' remote directories (mpq-testbed-DRIVER-PID-N).
DRIVER = re.sub(r"[^A-Za-z0-9_.-]", "_", socket.gethostname()) or "driver"


def stop_groups(d):
    """The remote shell words that stop every process group of the run
    directory D (its pid files): TERM, then KILL to those still there
    after 3 s."""
    return ("(cd %s 2>/dev/null || exit 0; for f in %s/*; do [ -f \"$f\" ] && "
            "kill -TERM -- -$(cat \"$f\") 2>/dev/null; done; for i in $(seq 30); do "
            "left=; for f in %s/*; do [ -f \"$f\" ] && kill -0 -- -$(cat \"$f\") "
            "2>/dev/null && left=1; done; [ -z \"$left\" ] && exit 0; sleep 0.1; done; "
            "for f in %s/*; do [ -f \"$f\" ] && kill -KILL -- -$(cat \"$f\") 2>/dev/null;"
            " done; exit 0)") % (shlex.quote(d), PIDS, PIDS, PIDS)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        pass
    return True


class HostsBackend:
    def __init__(self, h, bindir):
        self.h = h
        self.bin = bindir  # local build/bin, for bin ... copy
        self.ctl = tempfile.mkdtemp(prefix="mpqssh")  # ControlPath sockets (short paths)
        self.seq = 0
        self.rdir = None  # the current run's remote directory
        self.tc_on = []  # (host, iface) with our tbf
        self.procs = []  # local ssh processes of the current run
        self.masters = []
        self.copied = False
        self.swept = False

    # ---- ssh and scp ----
    def _common(self, host):
        # The hosts file's options first: ssh keeps the first value given.
        return host.ssh_options() + ["-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
                                     "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3",
                                     "-o", "ControlPath=%s/%%C" % self.ctl]

    def _ssh(self, host):
        return ["ssh", "-q"] + self._common(host) + ["-o", "ControlMaster=auto", host.dest]

    def _master(self, host):
        """One connection per host that the others reuse; it stays until
        close() (or 10 idle minutes, if we were killed)."""
        if host.dest in self.masters:
            return
        # Errors only (not -q): why a host cannot be reached.
        r = subprocess.run(["ssh"] + self._common(host) +
                           ["-o", "LogLevel=ERROR", "-o", "ControlMaster=yes",
                            "-o", "ControlPersist=600", "-fN", host.dest],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, text=True, timeout=60)
        if r.returncode:
            raise RuntimeError("ssh %s: %s" % (host.dest, (r.stderr.strip().splitlines()
                                                           or ["exit %d" % r.returncode])[-1]))
        self.masters.append(host.dest)

    def sh(self, host, script, timeout=60):
        """Runs SCRIPT in the remote shell; (exit status, output)."""
        try:
            self._master(host)
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            return 255, str(e)
        p = subprocess.Popen(self._ssh(host) + [script], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             start_new_session=True)
        self.procs.append(p)
        try:
            out, _ = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            out, _ = p.communicate()
            return 124, out
        finally:
            self.procs.remove(p)
        return p.returncode, out

    def must(self, host, script, what):
        rc, out = self.sh(host, script)
        if rc:
            raise RuntimeError("%s on %s: %s" % (what, host.dest, (out.strip().splitlines()
                                                                  or ["exit %d" % rc])[-1]))
        return out

    def scp(self, args):
        return subprocess.run(["scp", "-q", "-r"] + args, stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              start_new_session=True, timeout=600)

    # ---- the batch ----
    def _copy_tools(self):
        """bin DIR copy: the local mpq-server and mpq-client to DIR on
        both hosts, once a batch."""
        if self.copied or not self.h.copy:
            return
        for host in (self.h.client, self.h.server):
            self.must(host, "mkdir -p %s" % shlex.quote(self.h.bin), "mkdir")
            tools = [os.path.join(self.bin, t) for t in ("mpq-server", "mpq-client")]
            r = self.scp(self._common(host) + tools + [host.scp_target(self.h.bin + "/")])
            if r.returncode:
                raise RuntimeError("scp to %s: %s" % (host.dest, r.stdout.strip()))
        self.copied = True

    def close(self):
        """Ends the master connections (after the batch)."""
        for host in (self.h.client, self.h.server):
            if host.dest in self.masters:
                subprocess.run(["ssh"] + self._common(host) + ["-O", "exit", host.dest],
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=30)
        self.masters = []
        try:
            os.rmdir(self.ctl)
        except OSError:
            pass

    def abort(self):
        """Stops what the current run started on both hosts and removes it,
        also when interrupted halfway; then the connections."""
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            for p in list(self.procs):
                if p.poll() is None:
                    p.kill()
                    p.wait()
            self.procs = []
            self._stop_all()
            self._cleanup()
            self.close()
        finally:
            signal.signal(signal.SIGINT, old)

    # ---- one run ----
    def _stop_all(self):
        """TERM to every process group the run started on each host (its
        pid files), KILL to those still there after 3 s."""
        if not self.rdir:
            return
        for host in (self.h.client, self.h.server):
            self.sh(host, stop_groups(self.rdir))

    def _sweep(self):
        """Once a batch, before its first run: what the runs of a driver on
        this machine that is gone (killed by SIGKILL, its machine reset)
        left on the hosts: their processes stopped, the root qdiscs they
        set deleted, their directories removed."""
        if self.swept:
            return
        self.swept = True
        prefix = "mpq-testbed-%s-" % DRIVER
        for host in (self.h.client, self.h.server):
            _, out = self.sh(host, "cd %s 2>/dev/null && ls -d %s* 2>/dev/null"
                             % (shlex.quote(self.h.workdir), prefix))
            stale = [n for n in out.split() if re.fullmatch(r"\d+-\d+", n[len(prefix):])
                     and n.startswith(prefix) and not alive(int(n[len(prefix):].split("-")[0]))]
            for n in stale:
                d = shlex.quote(os.path.join(self.h.workdir, n))
                self.sh(host, "%s; for i in $(cat %s/%s 2>/dev/null); do tc qdisc del dev \"$i\""
                        " root 2>/dev/null; done; rm -rf %s" % (
                            stop_groups(os.path.join(self.h.workdir, n)), d, TCFILE, d))

    def _cleanup(self):
        """Removes our qdiscs and the run's directories (one command a
        host)."""
        for host in (self.h.client, self.h.server):
            cmds = ["tc qdisc del dev %s root 2>/dev/null" % shlex.quote(iface)
                    for h, iface in self.tc_on if h is host]
            if self.rdir:
                cmds.append("rm -rf %s" % shlex.quote(self.rdir))
            if cmds:
                self.sh(host, "; ".join(cmds))
        self.tc_on = []
        self.rdir = None

    def _spawn_script(self, name, argv, out, err, first=""):
        """The remote shell words that run ARGV in a session of its own,
        its group id in the pid file NAME, its output in the files OUT
        and ERR (after the shell words FIRST, if any)."""
        inner = "echo $$ >%s/%s; %sexec %s >%s 2>%s </dev/null" % (
            PIDS, name, first, " ".join(shlex.quote(a) for a in argv), out, err)
        return "setsid -w sh -c %s" % shlex.quote(inner)

    def _qdisc(self, iface, words):
        """The remote command that makes WORDS (root_qdisc's) IFACE's root
        qdisc; None: back to the default one."""
        if words is None:
            return "tc qdisc del dev %s root 2>/dev/null; true" % shlex.quote(iface)
        return "tc qdisc replace dev %s root %s" % (shlex.quote(iface), " ".join(words))

    def _apply_links(self, point):
        """links tc: each path interface's root qdisc for the start of the
        run; {role: its host's events script} for the rest."""
        if not self.h.tc:
            return {}
        timed = {}
        first = {}  # role -> the commands of the start, one ssh command a host
        for (role, iface), steps in sorted(hostsfile.tc_schedule(self.h, point).items()):
            if role not in first:
                # Which root qdiscs are ours, for a later batch's _sweep if we die.
                first[role] = [": >%s/%s" % (shlex.quote(self.rdir), TCFILE)]
            first[role].append("echo %s >>%s/%s" % (shlex.quote(iface), shlex.quote(self.rdir),
                                                     TCFILE))
            self.tc_on.append((self.h.host(role), iface))
            for t, words in steps:
                if t is None:
                    if words is not None:
                        first[role].append(self._qdisc(iface, words))
                else:
                    timed.setdefault(role, []).append((t, self._qdisc(iface, words)))
        for role, cmds in first.items():
            self.must(self.h.host(role), " && ".join(cmds), "tc")
        scripts = {}
        for role, steps in timed.items():
            lines, now = [], 0.0
            for t, cmd in sorted(steps, key=lambda x: x[0]):
                if t > now:
                    lines.append("sleep %.3f" % (t - now))
                    now = t
                lines += ["echo %s" % shlex.quote("at %gs: %s" % (t, cmd)), cmd]
            scripts[role] = "; ".join(lines)
        return scripts

    def run(self, point, rundir, capture):
        self.seq += 1
        s = point["settings"]
        if s["transport"] != "quic":
            # The hosts' MPTCP endpoints are their administrators' to set.
            return {"ok": False, "error": "transport %s: on the namespace testbed only"
                    % s["transport"]}
        npaths = int(s["paths"])
        self.rdir = os.path.join(self.h.workdir, "mpq-testbed-%s-%d-%d"
                                 % (DRIVER, os.getpid(), self.seq))
        try:
            self._sweep()
            self._copy_tools()
            for host in (self.h.client, self.h.server):
                self.must(host, "mkdir -p %s/%s %s/qlog" % (
                    shlex.quote(self.rdir), PIDS, shlex.quote(self.rdir)), "mkdir")
            events = self._apply_links(point)
            res = self._transfer(point, capture, npaths, events)
            self._stop_all()
            fetched = self._fetch(rundir)
            if res is None:
                res = self._summary(rundir)
            if fetched and res.get("ok"):
                res = {"ok": False, "error": fetched}
            return res
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            self._stop_all()
            return {"ok": False, "error": str(e)}
        finally:
            self._stop_all()
            self._reap()
            self._cleanup()

    def _fetch(self, rundir):
        """Both hosts' files of the run into RUNDIR; an error or ''."""
        for host in (self.h.server, self.h.client):
            r = self.scp(self._common(host) + [host.scp_target(self.rdir + "/*"), rundir])
            if r.returncode:
                return "scp from %s: %s" % (host.dest, (r.stdout.strip().splitlines()
                                                        or ["exit %d" % r.returncode])[-1])
        return ""

    def _events(self, role, script, first=""):
        """The remote shell words that run the events' SCRIPT on ROLE's
        host (its own session, its log tc-ROLE.log) after FIRST."""
        return self._spawn_script("tc-" + role, ["sh", "-c", script], "tc-%s.log" % role, "&1",
                                  first)

    def _client(self, argv, timeout, events):
        """Runs the client (ARGV) on its host, its EVENTS started just
        before it. The server's EVENTS start here too, waiting for a line
        that is sent when the client's host says the client starts: both
        are timed from the client's start, whatever ssh's delays.
        (exit status, output)."""
        d = shlex.quote(self.rdir)
        go = None
        if "server" in events:
            go = subprocess.Popen(self._ssh(self.h.server) + ["cd %s && %s" % (
                d, self._events("server", events["server"], "read go || exit 0; "))],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, text=True, start_new_session=True)
            self.procs.append(go)
        script = "cd %s && " % d
        if "client" in events:
            # Not a child of the shell: the client's setsid -w, which the
            # shell may exec, would take its end for the client's.
            script += "( %s >/dev/null 2>&1 & ) && " % self._events("client", events["client"])
        script += "echo go && " + self._spawn_script("client", argv, "client.json", "client.log")
        p = subprocess.Popen(self._ssh(self.h.client) + [script], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             start_new_session=True)
        self.procs.append(p)
        late = []
        timer = threading.Timer(timeout, lambda: late.append(p.kill()))
        timer.start()
        try:
            out = []
            for line in p.stdout:
                if line != "go\n":
                    out.append(line)
                elif go:
                    try:
                        go.stdin.write("go\n")
                        go.stdin.close()
                    except OSError:
                        pass
                    go = None
            p.wait()
        finally:
            timer.cancel()
            self.procs.remove(p)
        return (124 if late else p.returncode), "".join(out)

    def _reap(self):
        """Waits for the run's ssh processes still here (the server's
        events, ended by _stop_all), killing those that stay."""
        for p in self.procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []

    def _transfer(self, point, capture, npaths, events):
        """Runs the server and the client, and EVENTS ({role: script})
        timed from the client's start; None when the client ran (its
        summary is fetched), else the failure."""
        s = point["settings"]
        port = self.h.port
        d = shlex.quote(self.rdir)
        addrs = [self.h.paths[i][2] for i in range(1, npaths + 1)]
        hostport = ["[%s]:%d" % (a, port) if ":" in a else "%s:%d" % (a, port) for a in addrs]
        common = ["--sched", s["sched"], "--stream-sched", s["stream-sched"], "--cc", s["cc"],
                  "--io", s["io"]]
        if s["qlog"] == "yes":
            common += ["--qlog-dir", "qlog"]
        sargv = [self.h.bin + "/mpq-server", "--addr", ",".join(addrs), "--port", str(port),
                 "--www", s["www"] or self.rdir] + common + s["server-args"].split()
        self.must(self.h.server, "cd %s && { %s & }" % (
            d, self._spawn_script("server", sargv, "server.log", "&1")), "start mpq-server")
        deadline = time.monotonic() + 10
        while True:
            rc, out = self.sh(self.h.server, "cd %s && grep -c 'listening on' server.log; "
                              "kill -0 -- -$(cat %s/server) 2>/dev/null || echo exited" % (d, PIDS))
            lines = out.split()
            if lines and lines[0].isdigit() and int(lines[0]) >= len(addrs):
                break
            if "exited" in lines or time.monotonic() > deadline:
                _, log = self.sh(self.h.server, "tail -n 1 %s/server.log" % d)
                return {"ok": False, "error": "server: " + (log.strip() or "did not start")}
            time.sleep(0.1)
        urls = ["https://%s/%s" % (hostport[0],
                                   w.lstrip("/") if size_bytes(w) is None else size_bytes(w))
                for w in s["get"].split()]
        cargv = [self.h.bin + "/mpq-client", "-k", "--no-progress", "--json",
                 "--discard"] + common
        ifaces = [self.h.paths[i][0] for i in range(1, npaths + 1)]
        if s["multipath"] == "yes" and npaths > 1:
            cargv += ["-n", ",".join(ifaces), "-mip", ",".join(hostport[1:])]
        else:
            cargv += ["-n", ifaces[0], "--max-paths", "0"]
        if capture:
            cargv += ["--pcap", "client.pcapng"]
        cargv += s["client-args"].split() + urls
        rc, out = self._client(cargv, limit_seconds(point), events)
        if rc == 124:
            return {"ok": False, "error": "timeout after %gs" % round(limit_seconds(point))}
        if rc == 255:
            return {"ok": False, "error": "ssh %s: %s" % (self.h.client.dest, out.strip())}
        self.client_rc = rc
        return None

    def _summary(self, rundir):
        rc = self.client_rc
        try:
            with open(os.path.join(rundir, "client.json")) as f:
                summary = json.load(f)
        except (OSError, ValueError):
            try:
                with open(os.path.join(rundir, "client.log")) as f:
                    last = (f.read().strip().splitlines() or ["no output"])[-1]
            except OSError:
                last = "no output"
            return {"ok": False, "error": "client exit %d: %s" % (rc, last)}
        # Which path of the hosts file each of the client's paths took.
        path_of = {self.h.paths[i][0]: i for i in self.h.paths}
        for p in summary.get("paths", []):
            if p.get("iface") in path_of:
                p["testbed_path"] = path_of[p["iface"]]
        return {"ok": rc == 0, "error": "" if rc == 0 else "client exit %d" % rc,
                "summary": summary}
