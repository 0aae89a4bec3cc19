"""mpq-testbed run --sshloginfile FILE: the runs of a batch spread over
runner machines by GNU parallel (FILE in its format: one sshlogin a line,
N/ for N runs at once on that runner, ':' for this machine). Each job is
`mpq-testbed run EXPERIMENT --only RUN` with the local (namespace) backend
on its runner, in a directory of its own (parallel --workdir ...), the
experiment file sent along (--transferfile) and the job's results brought
back (--return, rsync). As each job's results come back its row goes into
DIR/results.csv and its files into DIR/runs/RUN; at the end the rows are
put in the batch's order. Results brought back but not yet merged (an
interrupted batch) are merged by the next --resume, which sends out only
the runs missing from results.csv.
"""
import csv
import os
import re
import shlex
import shutil
import signal
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
STAGE = "runners"  # in DIR: where parallel runs and the jobs' results land


def merge_one(stage, run, out, csv_path, header):
    """Job RUN's results (STAGE/job-RUN) into the batch; whether there were
    any."""
    job = os.path.join(stage, "job-" + run)
    jcsv = os.path.join(job, "results.csv")
    if not os.path.exists(jcsv):
        return False
    with open(jcsv, newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("run") == run]
    if not rows:
        return False
    dst = os.path.join(out, "runs", run)
    shutil.rmtree(dst, ignore_errors=True)
    if os.path.isdir(os.path.join(job, "runs", run)):
        shutil.move(os.path.join(job, "runs", run), dst)
    with open(csv_path, "a", newline="") as f:
        csv.DictWriter(f, fieldnames=header, extrasaction="ignore").writerow(rows[0])
    shutil.rmtree(job, ignore_errors=True)
    return True


def sort_rows(csv_path, header, order):
    """Rewrites CSV_PATH with its rows in ORDER (run names)."""
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    rank = {r: i for i, r in enumerate(order)}
    rows.sort(key=lambda r: rank.get(r["run"], len(rank)))
    tmp = csv_path + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=header)
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, csv_path)


def runner_env():
    """The environment a runner's mpq-testbed gets from ours."""
    env = ["%s=%s" % (k, os.environ[k]) for k in ("BIN", "MPQ_TESTBED_RUN") if k in os.environ]
    return ["env"] + env if env else []


def job_command(a, exp_file, stage, name_prefix):
    """The command each job runs on its runner ({} is the run). A job of
    this machine (':') gets neither the transferred file nor --return
    (parallel only does them over ssh) and starts in an empty directory:
    it reads the experiment and writes its results in STAGE itself."""
    testbed = a.runner_testbed or os.path.join(HERE, "mpq-testbed")
    argv = runner_env() + [testbed, "run", "DIR/" + exp_file, "--out", "DIR/job-{}",
                           "--only", "{}"]
    if a.reps:
        argv += ["--reps", str(a.reps)]
    if a.points is not None:
        argv += ["--points", str(a.points)]
    for s in a.set:
        argv += ["--set", s]
    if a.qlog:
        argv.append("--qlog")
    if a.capture:
        argv.append("--capture")
    # Testbed names unique over the batch: runners may share a kernel.
    words = ("--name %s{#}" % name_prefix if w == "NAME" else
             '"$d"/' + (w[4:] if "{}" in w else shlex.quote(w[4:])) if w.startswith("DIR/") else
             w if "{}" in w else shlex.quote(w) for w in argv + ["NAME"])
    return "d=.; [ -e %s ] || d=%s; %s" % (shlex.quote(exp_file), shlex.quote(stage),
                                          " ".join(words))


def one_job_default(path, stage):
    """A copy of the sshloginfile PATH in STAGE with '1/' before each
    runner that does not say how many runs it takes: parallel's -j1 would
    do that for ssh runners, but it also holds this machine (':') to one
    job, whatever N/ it is given."""
    out = os.path.join(stage, "sshlogins")
    with open(path) as f, open(out, "w") as w:
        for line in f:
            s = line.strip()
            w.write(line if not s or s.startswith("#") or re.match(r"\d+/", s)
                    else "1/" + line.lstrip())
    return out


def down_everywhere(a, name_prefix):
    """Takes down, on every runner, the testbeds of this batch's jobs that
    were killed before they could (parallel ends a job's processes with
    TERM then KILL): each namespace or state directory named PREFIX<job>."""
    testbed = a.runner_testbed or os.path.join(HERE, "mpq-testbed")
    find = ("{ ip netns list | awk '{print $1}'; ls \"${MPQ_TESTBED_RUN:-/run/mpq-testbed}\" "
            "2>/dev/null; } | sed -n 's/^\\(%s[0-9]*\\)\\(-c\\)\\{0,1\\}$/\\1/p' | sort -u"
            % name_prefix)
    script = "".join("export %s; " % shlex.quote(w) for w in runner_env()[1:]) + \
        "for n in $(%s); do %s down --name \"$n\"; done" % (find, shlex.quote(testbed))
    subprocess.run(["parallel", "--sshloginfile", os.path.abspath(a.sshloginfile), "--nonall",
                    script], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=300)


def spread(a, exp_path, names, done, out, csv_path, header, new_file, prog):
    """Runs the runs named NAMES that are not in DONE on the runners (a
    KeyboardInterrupt stops them and goes on up)."""
    stage = os.path.join(out, STAGE)
    os.makedirs(stage, exist_ok=True)
    if new_file:
        with open(csv_path, "w", newline="") as f:
            csv.DictWriter(f, fieldnames=header).writeheader()
    # What came back before an interruption but was not merged.
    for run in names:
        if run not in done and merge_one(stage, run, out, csv_path, header):
            done.add(run)
    todo = [r for r in names if r not in done]
    # What an interrupted job of this machine left in STAGE (its
    # results.csv without a row would stop the job sent again).
    for run in todo:
        shutil.rmtree(os.path.join(stage, "job-" + run), ignore_errors=True)
    exp_file = os.path.basename(exp_path)
    shutil.copyfile(exp_path, os.path.join(stage, exp_file))
    prefix = "tb%dj" % (os.getpid() % 10000)
    cmd = job_command(a, exp_file, os.path.abspath(stage), prefix)
    argv = ["parallel", "--sshloginfile", one_job_default(a.sshloginfile, stage),
            "--workdir", "...", "--transferfile", exp_file, "--return", "job-{}",
            "--cleanup", "--tagstring", "{}", "--joblog", "joblog", cmd]
    print("runners: %d runs over the runners of %s (GNU parallel)"
          % (len(todo), a.sshloginfile), flush=True)
    if not todo:
        return 0
    p = subprocess.Popen(argv, cwd=stage, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, start_new_session=True)
    p.stdin.write("".join(r + "\n" for r in todo))
    p.stdin.close()
    n = len(names) - len(todo)
    try:
        for line in p.stdout:
            run, _, text = line.rstrip("\n").partition("\t")
            m = re.match(r"\[\d+/\d+\] (.*)", text)
            if run in todo and m:
                n += 1
                print("[%d/%d] %s" % (n, len(names), m.group(1)), flush=True)
            elif run in todo and text.startswith(prog + ": interrupted"):
                continue
            elif text.strip() and not text.startswith("results: "):
                print("%s%s" % (run + ": " if run in todo else "", text or line.rstrip()),
                      flush=True)
            if run in todo:
                merge_one(stage, run, out, csv_path, header)
        rc = p.wait()
    except KeyboardInterrupt:
        # parallel stops its jobs (TERM to them; each tears its testbed down).
        os.killpg(p.pid, signal.SIGINT)
        try:
            p.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
        down_everywhere(a, prefix)
        raise
    finally:
        for run in todo:
            merge_one(stage, run, out, csv_path, header)
        sort_rows(csv_path, header, names)
    with open(csv_path, newline="") as f:
        have = {r["run"] for r in csv.DictReader(f)}
    missing = [r for r in todo if r not in have]
    if rc or missing:
        print("%s: parallel exit %d; %d runs without results (--resume sends them again;"
              " %s/joblog)" % (prog, rc, len(missing), stage))
