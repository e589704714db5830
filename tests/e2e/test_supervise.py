"""Supervision that never loses a profile (issue 5): sctprof as a container's PID 1 and as
a subreaper, stops by signal for every backend, --timeout, escalation to SIGTERM and
SIGKILL, a third signal, the terminal handed to the test, progress lines, concurrent runs
and rusage of the whole tree. Real cProfile throughout; waits are hang guards only."""

import json
import os
import re
import signal
import subprocess
import time

import pytest

from conftest import PY, SCTPROF, clean_env, run, write
from runs import (HANG, Pty, bundles, check_extracted, finish, only_run, run_dirs, start,
                  stats_functions, stats_loads, unshare_works, wait_for_file)

needs_pidns = pytest.mark.skipif(
    os.geteuid() != 0 or not unshare_works("--pid", "--fork", "--mount-proc"),
    reason="needs root and unshare --pid --fork --mount-proc")


# ---------------------------------------------------------------- orphans, PID 1

# Leaves processes behind as a test framework may: one that stays in the group, one
# daemon that left it (setsid), one that ends by itself, one that allocates 64 MiB.
# Each of the first two writes "<name>-stopped" when SIGINT reaches it.
ORPHANS = r'''
import os, signal, sys, time
marks = sys.argv[1]

def mark(name):
    with open(os.path.join(marks, name), "w") as f:
        f.write(str(os.getpid()))

def stay(name, setsid):
    if setsid:
        # A daemon: its own session, standard streams closed.
        os.setsid()
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
    def on_int(sig, frame):
        mark(name + "-stopped")
        os._exit(0)
    signal.signal(signal.SIGINT, on_int)
    mark(name + "-ready")
    while True:
        time.sleep(0.05)

def hog():
    block = b"x" * (64 << 20)
    mark("hog-done")

def double_fork(fn):
    pid = os.fork()
    if pid == 0:
        if os.fork() == 0:
            try:
                fn()
            finally:
                os._exit(0)
        os._exit(0)
    os.waitpid(pid, 0)

def leave_orphans():
    double_fork(lambda: stay("grouped", False))
    double_fork(lambda: stay("daemon", True))
    double_fork(lambda: time.sleep(0.1))
    double_fork(hog)
    while not all(os.path.exists(os.path.join(marks, n))
                  for n in ("grouped-ready", "daemon-ready", "hog-done")):
        time.sleep(0.01)

leave_orphans()
sys.exit(5)
'''


@needs_pidns
def test_pid1_reaps_orphans_and_stops_leftovers(workdir):
    write("t.py", ORPHANS)
    os.mkdir("marks")
    p = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", SCTPROF, "run", "-o", "out",
                        "--grace", "10s", "--", PY, "t.py", "marks"], capture_output=True,
                       text=True, env=clean_env(), timeout=HANG, stdin=subprocess.DEVNULL)
    assert p.returncode == 5, p.stderr
    run_dir, m = only_run("out")
    assert m["environment"]["container"]["pid1"] is True
    ended = m["ended"]
    assert ended["how"] == "exit" and ended["exit_status"] == 5
    # The four grandchildren were handed to sctprof and reaped by it; nothing is left,
    # not even a zombie (a zombie stays its parent's child until reaped).
    assert ended["orphans_reaped"] == 4
    assert ended["left_running"] == 0
    # Both survivors got the stop sequence's SIGINT, the daemon too (it left the group):
    # as PID 1 sctprof stops everything so that the container can exit.
    assert ended["leftovers_sent"] == "INT"
    assert os.path.exists("marks/grouped-stopped") and os.path.exists("marks/daemon-stopped")
    assert "sctprof_sent" not in ended
    # rusage covers the whole tree: the orphan that allocated 64 MiB is in it.
    assert m["rusage"]["max_rss_kib"] >= 64 * 1024
    assert "leave_orphans" in stats_functions(os.path.join(run_dir, "profile.stats"))
    assert len(bundles("out")) == 1


def test_subreaper_stops_group_and_counts_daemons(workdir):
    write("t.py", ORPHANS)
    os.mkdir("marks")
    try:
        p = run(["run", "-o", "out", "--grace", "10s", "--", PY, "t.py", "marks"])
        assert p.returncode == 5, p.stderr
        _, m = only_run("out")
        ended = m["ended"]
        assert m["environment"]["container"]["pid1"] is False
        # The daemon left the group: outside a container it is left running, and said so.
        assert ended["orphans_reaped"] == 3
        assert ended["left_running"] == 1
        assert ended["leftovers_sent"] == "INT"
        assert os.path.exists("marks/grouped-stopped")
        assert not os.path.exists("marks/daemon-stopped")
        assert m["rusage"]["max_rss_kib"] >= 64 * 1024
    finally:
        if os.path.exists("marks/daemon-ready"):
            try:
                os.kill(int(open("marks/daemon-ready").read()), signal.SIGKILL)
            except ProcessLookupError:
                pass


SLEEPER = r'''
import os, sys, time
def wait_to_be_stopped(marker):
    open(marker, "w").close()
    while True:
        time.sleep(0.02)
wait_to_be_stopped(sys.argv[1])
'''


@needs_pidns
def test_docker_stop_sigterm_to_pid1(workdir):
    """`docker stop` sends SIGTERM to the container's PID 1."""
    write("t.py", SLEEPER)
    proc = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", SCTPROF, "run", "-o",
                             "out", "--", PY, "t.py", "ready"], env=clean_env(),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=workdir)
    wait_for_file(workdir / "ready", proc)
    # sctprof is unshare's child, PID 1 inside the namespace.
    with open("/proc/%d/task/%d/children" % (proc.pid, proc.pid)) as f:
        [pid1] = [int(x) for x in f.read().split()]
    os.kill(pid1, signal.SIGTERM)
    status, _, err = finish(proc)
    assert status == 143, err
    run_dir, m = only_run("out")
    assert m["environment"]["container"]["pid1"] is True
    assert m["ended"]["how"] == "stopped" and m["ended"]["stopped_by"] == "TERM"
    assert "wait_to_be_stopped" in stats_functions(os.path.join(run_dir, "profile.stats"))
    assert len(bundles("out")) == 1


# ---------------------------------------------------------------- stops, per backend

def json_loads(path):
    with open(path) as f:
        json.load(f)
    return True


def not_empty(path):
    return os.path.getsize(path) > 0


def importtime_log(path):
    with open(path, errors="replace") as f:
        return "import time:" in f.read()


# Every backend: (kind, raw file as DESIGN.md names it, a check that it is usable). A
# backend not built into this sctprof, or whose tool is not installed here, is skipped
# (sctprof exits 69 for it).
TOOLS = {
    "cprofile": ("cprofile", "profile.stats", stats_loads),
    "py-spy": ("sampling", "profile.speedscope.json", json_loads),
    "memray": ("memory", "memray.bin", not_empty),
    "viztracer": ("timeline", "trace.json", json_loads),
    "scalene": ("scalene", "scalene.json", json_loads),
    "importtime": ("imports", "importtime.log", importtime_log),
}


# SIGTERM (Jenkins' abort, docker stop) for every backend; the other stop signals once.
STOPS = [(tool, signal.SIGTERM) for tool in sorted(TOOLS)] + \
    [("cprofile", sig) for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)]


@pytest.mark.parametrize("tool,sig", STOPS)
def test_stop_signal_keeps_profile(workdir, tool, sig):
    kind, raw, usable = TOOLS[tool]
    write("t.py", SLEEPER)
    proc = start(["run", "-p", kind, "--tool", tool, "-o", "out", "--", PY, "t.py", "ready"],
                 cwd=workdir)
    try:
        wait_for_file(workdir / "ready", proc)
    except AssertionError as e:
        if "exited 69" in str(e):
            pytest.skip("backend %s is not available here" % tool)
        raise
    proc.send_signal(sig)
    status, _, err = finish(proc)
    assert status == 128 + sig, err
    run_dir, m = only_run("out")
    assert usable(os.path.join(run_dir, raw))
    assert m["ended"]["how"] == "stopped"
    assert m["ended"]["stopped_by"] == signal.Signals(sig).name[3:]
    assert m["ended"]["sctprof_sent"] == "INT"
    [bundle] = bundles("out")
    dest = workdir / "x"
    dest.mkdir()
    subprocess.run(["tar", "--zstd", "-xf", bundle, "-C", str(dest)], check=True)
    check_extracted(dest, os.path.basename(run_dir), raw, usable)


# ---------------------------------------------------------------- timeout, escalation


def test_timeout(workdir):
    write("t.py", SLEEPER)
    p = run(["run", "-o", "out", "--timeout", "2s", "--", PY, "t.py", "ready"])
    assert p.returncode == 124, p.stderr
    run_dir, m = only_run("out")
    assert m["ended"]["how"] == "timeout"
    assert m["ended"]["exit_status"] == 124
    # SIGINT was enough: the run ended within the (default, 30 s) grace.
    assert m["ended"]["sctprof_sent"] == "INT"
    assert "wait_to_be_stopped" in stats_functions(os.path.join(run_dir, "profile.stats"))
    assert len(bundles("out")) == 1


STUBBORN = r'''
import os, signal, sys, time
def ignore(sig, frame):
    open(os.path.join(os.path.dirname(os.path.abspath(sys.argv[1])), signal.Signals(sig).name), "a").close()
def stubborn(marker, *ignored):
    for name in ignored:
        signal.signal(getattr(signal, name), ignore)
    open(marker, "w").close()
    while True:
        time.sleep(0.02)
stubborn(*sys.argv[1:])
'''


def test_ignoring_sigint_gets_sigterm(workdir):
    write("t.py", STUBBORN)
    p = run(["run", "-o", "out", "--timeout", "1s", "--grace", "1s", "--kill-after", "30s",
             "--", PY, "t.py", "ready", "SIGINT"])
    assert p.returncode == 124, p.stderr
    run_dir, m = only_run("out")
    assert os.path.exists("SIGINT")  # it saw the SIGINT and carried on
    assert m["ended"]["sctprof_sent"] == "TERM"
    # The launcher writes the profile on SIGTERM.
    assert "stubborn" in stats_functions(os.path.join(run_dir, "profile.stats"))
    assert m["ended"]["signal_name"] == "TERM"


def test_ignoring_sigint_and_sigterm_gets_sigkill(workdir):
    write("t.py", STUBBORN)
    p = run(["run", "-o", "out", "--timeout", "1s", "--grace", "1s", "--kill-after", "1s",
             "--", PY, "t.py", "ready", "SIGINT", "SIGTERM"])
    assert p.returncode == 124, p.stderr
    assert os.path.exists("SIGINT") and os.path.exists("SIGTERM")
    run_dir, m = only_run("out")
    assert m["ended"]["sctprof_sent"] == "KILL"
    assert m["ended"]["signal_name"] == "KILL"
    # Nothing could save the profile from SIGKILL; the manifest says so, and the bundle
    # (with the manifest) is still written.
    assert not os.path.exists(os.path.join(run_dir, "profile.stats"))
    assert any("SIGKILL" in w for w in m["warnings"])
    assert "SIGKILL" in p.stderr
    [bundle] = bundles("out")
    names = subprocess.run(["bsdtar", "-tf", bundle], capture_output=True, text=True,
                           check=True).stdout.split()
    assert names == [os.path.basename(run_dir) + "/manifest.json"]


def test_second_signal_skips_grace(workdir):
    write("t.py", STUBBORN)
    # A grace of an hour: only the second signal can end this run before the hang guard.
    proc = start(["run", "-o", "out", "--grace", "1h", "--", PY, "t.py", "ready", "SIGINT"],
                 cwd=workdir)
    wait_for_file(workdir / "ready", proc)
    proc.send_signal(signal.SIGINT)
    wait_for_file(workdir / "SIGINT", proc)
    proc.send_signal(signal.SIGINT)
    status, _, err = finish(proc)
    assert status == 130, err
    run_dir, m = only_run("out")
    assert m["ended"]["sctprof_sent"] == "TERM"
    assert "stubborn" in stats_functions(os.path.join(run_dir, "profile.stats"))
    assert len(bundles("out")) == 1


# Writes a log into its run folder (the one folder in OUTDIR), then ignores SIGINT and
# SIGTERM: three signals to sctprof take the run to SIGKILL and skip the bundle.
STUBBORN_WITH_LOG = r'''
import os, sys
out = sys.argv[1]
[run] = [d for d in os.listdir(out) if os.path.isdir(os.path.join(out, d))]
with open(os.path.join(out, run, "test.log"), "w") as f:
    f.write("the test's own log\n")
sys.argv[1:] = sys.argv[2:]
''' + STUBBORN


def test_third_signal_skips_bundling_keeps_raw(workdir):
    write("t.py", STUBBORN_WITH_LOG)
    proc = start(["run", "-o", "out", "--grace", "1h", "--kill-after", "1h", "--", PY, "t.py",
                  "out", "ready", "SIGINT", "SIGTERM"], cwd=workdir)
    wait_for_file(workdir / "ready", proc)
    proc.send_signal(signal.SIGTERM)
    wait_for_file(workdir / "SIGINT", proc)
    proc.send_signal(signal.SIGINT)
    wait_for_file(workdir / "SIGTERM", proc)
    proc.send_signal(signal.SIGHUP)
    status, _, err = finish(proc)
    assert status == 143, err
    assert "raw profile kept in" in err
    run_dir, m = only_run("out")
    assert open(os.path.join(run_dir, "test.log")).read() == "the test's own log\n"
    assert m["ended"]["sctprof_sent"] == "KILL"
    assert m["bundle"]["aborted"] is True
    assert bundles("out") == []
    assert not [f for f in os.listdir("out") if ".tmp-" in f]


# ---------------------------------------------------------------- the terminal

READER = r'''
import sys, time
def ask():
    sys.stdout.write("cluster name? ")
    sys.stdout.flush()
    name = sys.stdin.readline().strip()
    print("got cluster " + name)
def wait_for_ctrl_c():
    print("waiting for Ctrl-C")
    sys.stdout.flush()
    while True:
        time.sleep(0.02)
ask()
wait_for_ctrl_c()
'''


def test_terminal_input_and_ctrl_c(workdir):
    write("t.py", READER)
    t = Pty(["run", "-o", "out", "--", PY, "t.py"], cwd=str(workdir))
    t.read_until(b"cluster name? ")
    t.write(b"scylla-1\n")
    t.read_until(b"got cluster scylla-1")
    t.read_until(b"waiting for Ctrl-C")
    t.write(b"\x03")
    assert t.wait() == 130, t.data
    run_dir, m = only_run("out")
    funcs = stats_functions(os.path.join(run_dir, "profile.stats"))
    assert {"ask", "wait_for_ctrl_c"} <= funcs
    # Ctrl-C went to the test's group (the terminal's foreground), not through sctprof.
    assert m["ended"]["how"] == "signal" and m["ended"]["signal_name"] == "INT"
    assert "sctprof_sent" not in m["ended"]
    assert len(bundles("out")) == 1


def process_state(pid):
    with open("/proc/%d/stat" % pid) as f:
        return f.read().rsplit(")", 1)[1].split()[0]


def test_ctrl_z_stops_both_and_continue_gives_the_terminal_back(workdir):
    write("t.py", READER)
    t = Pty(["run", "-o", "out", "--", PY, "t.py"], cwd=str(workdir))
    t.read_until(b"cluster name? ")
    t.write(b"\x1a")  # Ctrl-Z: the test's group stops, and sctprof with it, as a job
    deadline = time.monotonic() + HANG
    while process_state(t.pid) != "T":
        assert time.monotonic() < deadline, "sctprof did not stop with its test"
        time.sleep(0.02)
    os.kill(t.pid, signal.SIGCONT)  # what `fg` does, the terminal back to the job
    t.write(b"after-fg\n")
    t.read_until(b"got cluster after-fg")
    t.read_until(b"waiting for Ctrl-C")
    t.write(b"\x03")
    assert t.wait() == 130, t.data
    run_dir, m = only_run("out")
    assert {"ask", "wait_for_ctrl_c"} <= stats_functions(os.path.join(run_dir, "profile.stats"))


DEBUGGED = r'''
def compute():
    answer = 6 * 7
    breakpoint()
    return answer
print("result", compute())
'''


def test_pdb_reads_the_keyboard(workdir):
    write("t.py", DEBUGGED)
    env = clean_env()
    env.pop("PYTHONBREAKPOINT", None)
    t = Pty(["run", "-o", "out", "--", PY, "t.py"], env=env, cwd=str(workdir))
    t.read_until(b"(Pdb) ")
    t.write(b"p answer + 1\n")
    t.read_until(b"43")
    t.write(b"c\n")
    t.read_until(b"result 42")
    assert t.wait() == 0, t.data
    run_dir, _ = only_run("out")
    assert "compute" in stats_functions(os.path.join(run_dir, "profile.stats"))


# ---------------------------------------------------------------- progress

# Prints five lines as a test does, then leaves a 48 MiB incompressible log in its run
# folder, so that bundling takes a while.
NOISY = r'''
import os, sys
def test_with_output(out):
    for i in range(1, 6):
        print("test line %d" % i)
        sys.stdout.flush()
    [run] = [d for d in os.listdir(out) if os.path.isdir(os.path.join(out, d))]
    with open(os.path.join(out, run, "big.log"), "wb") as f:
        for _ in range(48):
            f.write(os.urandom(1 << 20))
test_with_output(sys.argv[1])
'''

LINE = re.compile(rb"\rsctprof: bundling [0-9.]+ (B|KiB|MiB) of 48\.0 MiB")


def test_progress_line_on_a_terminal(workdir):
    write("t.py", NOISY)
    t = Pty(["run", "-o", "out", "--", PY, "t.py", "out"], cwd=str(workdir))
    assert t.wait() == 0, t.data
    text = t.data.replace(b"\r\n", b"\n")
    # The test's lines come together, with nothing of sctprof's among them.
    lines = text.split(b"\n")
    first = lines.index(b"test line 1")
    assert lines[first:first + 5] == [b"test line %d" % i for i in range(1, 6)]
    assert b"sctprof" not in b"\n".join(lines[:first + 5])
    # Then the live line (drawn over itself with \r), cleared before the last line.
    rest = b"\n".join(lines[first + 5:])
    assert LINE.search(rest), rest
    last_draw = max(m.end() for m in LINE.finditer(rest))
    tail = rest[last_draw:]
    cleared = re.search(rb"\r +\r", tail)
    assert cleared, tail
    assert tail[cleared.end():].startswith(b"sctprof: profile: ")
    assert len(bundles("out")) == 1


def test_progress_plain_lines_through_a_pipe(workdir):
    write("t.py", NOISY)
    p = run(["run", "-o", "out", "--", PY, "t.py", "out"])
    assert p.returncode == 0, p.stderr
    assert "\r" not in p.stderr and "\033" not in p.stderr
    lines = p.stderr.splitlines()
    assert [l for l in lines if l.startswith("sctprof: bundling ")] == \
        [l for l in lines if l.startswith("sctprof: bundling 48.0 MiB into ")] != []
    assert lines[-1].startswith("sctprof: profile: ")
    # One plain line per phase, and nothing else before the last.
    assert all(re.match(r"sctprof: (post-processing|bundling )", l) for l in lines[:-1])
    assert [l for l in p.stdout.splitlines()] == ["test line %d" % i for i in range(1, 6)]


@pytest.mark.parametrize("mode,live", [("always", True), ("never", False)])
def test_progress_option(workdir, mode, live):
    write("t.py", NOISY)
    if live:
        p = subprocess.run([SCTPROF, "run", "-o", "out", "--progress", mode, "--", PY, "t.py",
                            "out"], capture_output=True, env=clean_env(), timeout=HANG,
                           stdin=subprocess.DEVNULL)
        assert p.returncode == 0, p.stderr
        assert LINE.search(p.stderr)
    else:
        t = Pty(["run", "-o", "out", "--progress", mode, "--", PY, "t.py", "out"],
                cwd=str(workdir))
        assert t.wait() == 0
        assert b"\rsctprof" not in t.data
        assert b"\nsctprof: bundling 48.0 MiB into " in t.data


def test_quiet_shows_no_progress(workdir):
    write("t.py", "pass\n")
    p = run(["-q", "run", "-o", "out", "--", PY, "t.py"])
    assert p.returncode == 0
    assert p.stderr == ""


# ---------------------------------------------------------------- run ids, rusage


def test_concurrent_runs_do_not_collide(workdir):
    """Same output folder, same SCT_TEST_ID, started together: the run ids would be the
    same within a second; each run still gets its own folder and bundle."""
    write("t.py", "import sys, time\ntime.sleep(0.2)\nprint(sys.argv[1])\n")
    env = clean_env(SCT_TEST_ID="1a2b3c4d-5e6f")
    procs = [start(["run", "-o", "out", "--", PY, "t.py", str(i)], env=env, cwd=workdir)
             for i in range(3)]
    results = [finish(p) for p in procs]
    assert [r[0] for r in results] == [0, 0, 0], [r[2] for r in results]
    dirs = run_dirs("out")
    assert len(dirs) == 3
    ids = [os.path.basename(d) for d in dirs]
    assert all(re.fullmatch(r"\d{8}T\d{6}Z-cprofile-1a2b3c4d(-\d+)?", i) for i in ids), ids
    assert sorted(os.path.basename(b) for b in bundles("out")) == sorted(i + ".tar.zst" for i in ids)
    for d in dirs:
        with open(os.path.join(d, "manifest.json")) as f:
            assert json.load(f)["run_id"] == os.path.basename(d)
    printed = sorted(r[1].strip() for r in results)
    assert printed == ["0", "1", "2"]


CPU = r'''
import os, subprocess, sys
def spin():
    n = 0
    for i in range(3_000_000):
        n += i * i
    return n
spin()
child = subprocess.run([sys.executable, "-c",
    "import os\nn = 0\nfor i in range(3_000_000): n += i\nt = os.times()\nprint(t.user, t.system)"],
    capture_output=True, text=True, check=True)
me = os.times()
user, system = map(float, child.stdout.split())
print("used", me.user + user, me.system + system)
'''


def test_rusage_covers_the_tree(workdir):
    write("t.py", CPU)
    p = run(["run", "-o", "out", "--", PY, "t.py"])
    assert p.returncode == 0, p.stderr
    _, m = only_run("out")
    [line] = [l for l in p.stdout.splitlines() if l.startswith("used ")]
    user, system = map(float, line.split()[1:])
    ru = m["rusage"]
    # What the test and its child measured themselves is part of what sctprof reports.
    assert ru["user_cpu_seconds"] >= user - 0.01
    assert ru["system_cpu_seconds"] >= system - 0.01
    assert ru["max_rss_kib"] > 0


def test_killed_by_signal(workdir):
    write("t.py", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    p = run(["run", "-o", "out", "--", PY, "t.py"])
    assert p.returncode == 137, p.stderr
    _, m = only_run("out")
    assert m["ended"]["how"] == "signal" and m["ended"]["signal_name"] == "KILL"
