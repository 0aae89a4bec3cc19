"""One run of an experiment point on this machine (mpq-testbed run's local
backend): a testbed of namespaces with mpq-linkemu per path (mpq-testbed
up), mpq-server in the server namespace, the point's events sent to the
emulators, mpq-client with --json in the client namespace, then the
testbed down. Everything the run made is left in its directory.

A backend is an object with run(point, rundir, capture) -> result dict
and abort(); backend_hosts.py is the one for real hosts.
"""
import json
import os
import signal
import subprocess
import time

from experiment import limit_seconds, size_bytes

PORT = 4433
MPTCP_LIMIT = 8  # subflows and announced addresses each end accepts


class LocalBackend:
    def __init__(self, testbed, bindir, name):
        self.tb = testbed  # the mpq-testbed script
        self.bin = bindir
        self.name = name
        self.procs = []
        self.env = dict(os.environ, BIN=bindir)

    def _testbed(self, *args, out=None):
        return subprocess.run([self.tb, args[0], "--name", self.name] + list(args[1:]),
                              env=self.env, stdout=out or subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)

    def _spawn(self, ns, argv, stdout, stderr):
        p = subprocess.Popen(["ip", "netns", "exec", "%s-%s" % (self.name, ns)] + argv,
                             stdout=stdout, stderr=stderr, start_new_session=True)
        self.procs.append(p)
        return p

    def abort(self):
        """Stops what a run started and takes its testbed down, also when
        interrupted halfway."""
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except OSError:
                    pass
                p.wait()
        self.procs = []
        self._testbed("down")

    def run(self, point, rundir, capture):
        s = point["settings"]
        npaths = int(s["paths"])
        fail = {"ok": False, "error": ""}
        args = ["up", "--paths", str(npaths)]
        for i in range(1, npaths + 1):
            args += ["--link%d" % i, point["links"].get(i, "")]
        if capture:
            args += ["--pcap", rundir]
        r = self._testbed(*args)
        if r.returncode:
            fail["error"] = "testbed up: " + r.stdout.strip().splitlines()[-1:][0]
            return fail
        try:
            return self._transfer(point, rundir, capture, npaths)
        finally:
            self.abort_processes()
            with open(os.path.join(rundir, "links.txt"), "w") as f:
                self._testbed("down", out=f)

    def abort_processes(self):
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    os.killpg(p.pid, signal.SIGKILL)
                    p.wait()
        self.procs = []

    def _mptcp_endpoints(self, addrs):
        """transport mptcp: both ends accept subflows, and the server
        announces its other addresses (ADD_ADDR), to which the client's
        path manager opens a subflow each, from the address its routes
        choose (path I's). An error, or ''."""
        cmds = [("c", ["limits", "set", "subflow", str(MPTCP_LIMIT), "add_addr_accepted",
                       str(MPTCP_LIMIT)]),
                ("s", ["limits", "set", "subflow", str(MPTCP_LIMIT), "add_addr_accepted",
                       str(MPTCP_LIMIT)])]
        cmds += [("s", ["endpoint", "add", a, "dev", "p%d" % i, "signal"])
                 for i, a in enumerate(addrs[1:], 2)]
        for ns, args in cmds:
            r = subprocess.run(["ip", "netns", "exec", "%s-%s" % (self.name, ns), "ip", "mptcp"]
                               + args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
            if r.returncode:
                return "ip mptcp %s: %s" % (" ".join(args), r.stdout.strip())
        return ""

    def _transfer(self, point, rundir, capture, npaths):
        s = point["settings"]
        addrs = ["10.100.%d.2" % i for i in range(1, npaths + 1)]
        common = ["--sched", s["sched"], "--stream-sched", s["stream-sched"], "--cc", s["cc"],
                  "--io", s["io"]]
        if s["qlog"] == "yes":
            qdir = os.path.join(rundir, "qlog")
            os.makedirs(qdir, exist_ok=True)
            common_q = ["--qlog-dir", qdir]
        else:
            common_q = []
        www = s["www"] or rundir
        sargv = [os.path.join(self.bin, "mpq-server"), "--addr", ",".join(addrs),
                 "--port", str(PORT), "--www", www] + common + common_q + s["server-args"].split()
        transport = s["transport"]
        if transport != "quic":
            sargv.append("--" + transport)
        if transport == "mptcp":
            err = self._mptcp_endpoints(addrs)
            if err:
                return {"ok": False, "error": err}
        slog = open(os.path.join(rundir, "server.log"), "w")
        server = self._spawn("s", sargv, slog, subprocess.STDOUT)
        slog.close()
        want = "listening on %s:%d%s" % (addrs[-1], PORT,
                                         "" if transport == "quic" else " (" + transport)
        for _ in range(100):
            with open(os.path.join(rundir, "server.log")) as f:
                if want in f.read():
                    break
            if server.poll() is not None:
                break
            time.sleep(0.05)
        else:
            return {"ok": False, "error": "the server did not start"}
        if server.poll() is not None:
            with open(os.path.join(rundir, "server.log")) as f:
                return {"ok": False, "error": "server: " + (f.read().strip().splitlines()
                                                           or ["exited"])[-1]}
        for t, path, spec in point["events"]:
            r = self._testbed("set", str(path), "at", "%gms" % (t * 1000), *spec.split())
            if r.returncode:
                return {"ok": False, "error": "event at %gs: %s" % (t, r.stdout.strip())}
        urls = ["https://%s:%d/%s" % (addrs[0], PORT,
                                      w.lstrip("/") if size_bytes(w) is None else size_bytes(w))
                for w in s["get"].split()]
        cargv = [os.path.join(self.bin, "mpq-client"), "-k", "--no-progress", "--json",
                 "--discard"] + common
        if transport != "quic":
            # MPTCP's subflows come from the kernel's path manager.
            ifs = npaths if transport == "mptcp" and s["multipath"] == "yes" else 1
            cargv += ["--" + transport, "-n", ",".join("p%d" % i for i in range(1, ifs + 1))]
        elif s["multipath"] == "yes" and npaths > 1:
            cargv += ["-n", ",".join("p%d" % i for i in range(1, npaths + 1)),
                      "-mip", ",".join("%s:%d" % (a, PORT) for a in addrs[1:])]
        else:
            cargv += ["-n", "p1", "--max-paths", "0"]
        if transport == "quic":
            cargv += common_q
        if capture and transport == "quic":
            cargv += ["--pcap", os.path.join(rundir, "client.pcapng")]
        cargv += s["client-args"].split() + urls
        with open(os.path.join(rundir, "client.json"), "w") as out, \
                open(os.path.join(rundir, "client.log"), "w") as err:
            client = self._spawn("c", cargv, out, err)
            limit = limit_seconds(point)
            try:
                rc = client.wait(limit)
            except subprocess.TimeoutExpired:
                os.killpg(client.pid, signal.SIGKILL)
                client.wait()
                return {"ok": False, "error": "timeout after %gs" % round(limit)}
        try:
            with open(os.path.join(rundir, "client.json")) as f:
                summary = json.load(f)
        except (OSError, ValueError):
            with open(os.path.join(rundir, "client.log")) as f:
                last = (f.read().strip().splitlines() or ["no output"])[-1]
            return {"ok": False, "error": "client exit %d: %s" % (rc, last)}
        return {"ok": rc == 0, "error": "" if rc == 0 else "client exit %d" % rc,
                "summary": summary}
