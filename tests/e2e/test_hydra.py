"""sctprof inside hydra: the bash hook (container/hook.bash, `sctprof hook bash`), the
SCT_PROFILE wrapper around hydra's own `bash -c "...; eval '<CMD>'"`, and
`sctprof run --inject`, which profiles every matching Python process under a command.

memray, viztracer and py-spy cannot be installed here: their inject paths run against the
stand-ins of tests/fakes/inject/, which record that the documented API was called; what
the real tools write is not tested."""

import glob
import json
import os
import pstats
import pty
import re
import select
import shutil
import signal
import subprocess
import time

import pytest

from conftest import FAKES, PY, ROOT, SCTPROF, clean_env, run, write

HOOK = os.path.join(ROOT, "container", "hook.bash")
BINDIR = os.path.dirname(SCTPROF)
INJECT_FAKES = os.path.join(FAKES, "inject")
# The py-spy stand-in is a C program, built beside the binary under test.
INJECT_FAKES_BIN = os.path.join(os.path.dirname(BINDIR), "tests", "fakes", "inject")

# Exactly what hydra runs in the container for `hydra run-test x` (docker/env/hydra.sh:
# CMD="./sct.py run-test x", then /bin/bash -c "${PREPARE_CMD}; ${TERM_SET_SIZE} eval '${CMD}'").
HYDRA_CMD = "test; eval './sct.py run-test x'"

# A stand-in for SCT's sct.py: some work of its own, then a Python worker subprocess (the
# same script, as SCT starts helpers), then its own exit status.
STANDIN = """#!/usr/bin/python3
import os, subprocess, sys

def standin_work(n):
    return sum(i * i for i in range(n))

def worker_work(n):
    return sum(i % 7 for i in range(n))

if sys.argv[1:2] == ["worker"]:
    worker_work(30000)
    sys.exit(0)
standin_work(30000)
subprocess.run([sys.executable, os.path.abspath(__file__), "worker"], check=True)
sys.exit(int(os.environ.get("STANDIN_STATUS", "3")))
"""


@pytest.fixture
def sct(tmp_path):
    """An SCT_DIR with the stand-in, and an environment as hydra's container has it."""
    write(tmp_path / "sct.py", STANDIN, 0o755)
    env = clean_env(PATH="%s:/usr/bin:/bin" % BINDIR, HOME=str(tmp_path / "home"),
                    XDG_CACHE_HOME=str(tmp_path / "cache"), TERM="dumb")
    for k in ("BASH_ENV", "SCTPROF_ACTIVE", "SCTPROF_INJECT", "SCTPROF_GREETED", "PYTHONPATH"):
        env.pop(k, None)
    return tmp_path, env


def bundles(d):
    return sorted(glob.glob(os.path.join(str(d), "sct-profiles", "*.tar.zst")))


def unpack(bundle, dest):
    """Extracts a bundle; returns its run folder."""
    os.makedirs(dest, exist_ok=True)
    subprocess.run(["tar", "--zstd", "-xf", bundle, "-C", str(dest)], check=True)
    (run_dir,) = glob.glob(os.path.join(str(dest), "*"))
    return run_dir


def manifest(run_dir):
    with open(os.path.join(run_dir, "manifest.json")) as f:
        return json.load(f)


def functions(stats_path):
    return {func[2] for func in pstats.Stats(stats_path).stats}


def by_role(processes):
    """{"main": proc, "worker": proc} by the stand-in's command line."""
    roles = {}
    for p in processes:
        roles["worker" if p["argv"][-1] == "worker" else "main"] = p
    return roles


def can_unshare():
    try:
        return subprocess.run(["unshare", "--pid", "--uts", "--fork", "--mount-proc", "true"],
                              capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


# --- the hook under hydra's own invocation --------------------------------------------

def test_hydra_invocation_profiles_every_process_into_one_bundle(sct):
    """docker run ... /bin/bash -c "test; eval './sct.py run-test x'" with SCT_PROFILE set:
    bash is PID 1 in new PID and UTS namespaces (hostname SCT-CONTAINER), BASH_ENV names
    the hook, and the hook hands the command to sctprof."""
    if not can_unshare():
        pytest.skip("unshare --pid --uts needs root (or user namespaces) here")
    d, env = sct
    env.update(BASH_ENV=HOOK, SCT_PROFILE="cprofile")
    p = subprocess.run(["unshare", "--pid", "--uts", "--fork", "--mount-proc", "/bin/sh", "-c",
                        'hostname SCT-CONTAINER && exec /bin/bash -c "$0"', HYDRA_CMD],
                       cwd=d, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 3, p.stderr
    (bundle,) = bundles(d)
    run_dir = unpack(bundle, d / "x")
    m = manifest(run_dir)
    assert m["environment"]["host"] == "SCT-CONTAINER"
    # bash was PID 1 and exec'd sctprof: sctprof is the container's init for the run.
    assert m["environment"]["container"]["pid1"] is True
    # The wrapper runs the very command string, with bash's own $0.
    assert m["argv"] == ["/bin/bash", "-c", HYDRA_CMD, "/bin/bash"]
    assert m["ended"]["exit_status"] == 3
    assert m["tool"]["mode"] == "inject"
    procs = by_role(m["inject"]["processes"])
    assert set(procs) == {"main", "worker"}
    assert procs["worker"]["ppid"] == procs["main"]["pid"]
    for role, proc in procs.items():
        assert proc["written"] is True
        assert proc["file"] == "profile.%d.stats" % proc["pid"]
        assert proc["views"] == ["summary.%d.txt" % proc["pid"], "profile.%d.svg" % proc["pid"]]
        for view in proc["views"]:
            assert os.path.exists(os.path.join(run_dir, view))
    main_funcs = functions(os.path.join(run_dir, procs["main"]["file"]))
    worker_funcs = functions(os.path.join(run_dir, procs["worker"]["file"]))
    assert "standin_work" in main_funcs and "worker_work" not in main_funcs
    assert "worker_work" in worker_funcs and "standin_work" not in worker_funcs
    with open(os.path.join(run_dir, "summary.txt")) as f:
        assert "2 Python processes matched" in f.read()


def test_nested_bash_inside_the_wrapped_command_is_not_wrapped_again(sct):
    d, env = sct
    env.update(BASH_ENV=HOOK, SCT_PROFILE="cprofile")
    p = subprocess.run(["/bin/bash", "-c", "test; eval 'bash -c \"./sct.py run-test x\"'"],
                       cwd=d, env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 3, p.stderr
    assert len(bundles(d)) == 1
    # Had the inner shell wrapped again, sctprof's own guard would have said so.
    assert "already inside the profiled run" not in p.stderr
    m = manifest(unpack(bundles(d)[0], d / "x"))
    assert len(m["inject"]["processes"]) == 2


def test_no_sct_profile_means_no_wrapping(sct):
    d, env = sct
    env.update(BASH_ENV=HOOK)
    p = subprocess.run(["/bin/bash", "-c", HYDRA_CMD], cwd=d, env=env, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 3
    assert p.stderr == ""
    assert not os.path.exists(d / "sct-profiles")


def test_sct_profile_with_a_kind_that_cannot_be_injected_runs_unprofiled(sct):
    d, env = sct
    env.update(BASH_ENV=HOOK, SCT_PROFILE="scalene")
    p = subprocess.run(["/bin/bash", "-c", HYDRA_CMD], cwd=d, env=env, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 3
    assert p.stderr.count("\n") == 1 and "running unprofiled" in p.stderr
    assert not os.path.exists(d / "sct-profiles")


def test_sct_profile_dir_and_match(sct):
    d, env = sct
    env.update(BASH_ENV=HOOK, SCT_PROFILE="cprofile", SCT_PROFILE_DIR=str(d / "out"),
               SCT_PROFILE_MATCH="nothing-*.py")
    p = subprocess.run(["/bin/bash", "-c", HYDRA_CMD], cwd=d, env=env, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 3
    (bundle,) = glob.glob(str(d / "out" / "*.tar.zst"))
    m = manifest(unpack(bundle, d / "x"))
    assert m["inject"]["match"] == "nothing-*.py"
    assert m["inject"]["processes"] == []
    assert any("no Python process matched" in w for w in m["warnings"])


# --- sctprof run --inject ---------------------------------------------------------------

def inject(d, env, *args, command=("/bin/bash", "-c", "./sct.py run-test x")):
    return run(["run", "--inject"] + list(args) + ["--"] + list(command), cwd=d, env=env)


def test_inject_nested_run_inject_runs_the_command_as_is(sct):
    d, env = sct
    p = inject(d, env, "-p", "cprofile", command=(SCTPROF, "run", "--inject", "--", "./sct.py", "run-test"))
    assert p.returncode == 3, p.stderr
    assert "already inside the profiled run" in p.stderr
    assert len(bundles(d)) == 1
    m = manifest(unpack(bundles(d)[0], d / "x"))
    assert len(m["inject"]["processes"]) == 2


def test_inject_a_nested_plain_run_keeps_the_outer_hook_out(sct):
    """The inner `sctprof run` profiles ./sct.py through its launcher; the worker it
    starts must not be profiled a second time by the outer --inject run."""
    d, env = sct
    p = inject(d, env, "-p", "cprofile", "-o", "outer",
               command=(SCTPROF, "run", "-p", "cprofile", "-o", "inner", "--", "./sct.py", "run-test"))
    assert p.returncode == 3, p.stderr
    (outer,) = glob.glob(str(d / "outer" / "*.tar.zst"))
    assert manifest(unpack(outer, d / "x"))["inject"]["processes"] == []
    (inner,) = glob.glob(str(d / "inner" / "*.tar.zst"))
    assert os.path.exists(os.path.join(unpack(inner, d / "y"), "profile.stats"))


def test_inject_refuses_kinds_that_cannot_start_in_a_running_process(sct):
    d, env = sct
    for kind, why in (("scalene", "re-executes the interpreter"), ("imports", "-X importtime")):
        p = inject(d, env, "-p", kind)
        assert p.returncode == 64, p.stderr
        assert why in p.stderr
    assert not bundles(d)


def test_inject_best_effort_runs_the_command_when_set_up_fails(sct):
    d, env = sct
    write(d / "blocker", "a file where the output folder should be\n")
    p = inject(d, env, "-p", "cprofile", "--best-effort", "-o", str(d / "blocker" / "out"))
    assert p.returncode == 3
    assert "running the command unprofiled" in p.stderr
    assert len([l for l in p.stderr.splitlines() if l]) == 1
    # Without --best-effort the same failure is sctprof's own, and nothing runs.
    p = inject(d, env, "-p", "cprofile", "-o", str(d / "blocker" / "out"))
    assert p.returncode == 73


def test_inject_keeps_the_status_of_a_process_killed_by_sigterm(sct):
    """The hook writes the profile on SIGTERM, then the process dies of it as it would."""
    d, env = sct
    write(d / "sct.py", "#!/usr/bin/python3\nimport os, signal\n"
          "def before_the_end():\n    return sum(range(1000))\n"
          "before_the_end()\nos.kill(os.getpid(), signal.SIGTERM)\n", 0o755)
    p = inject(d, env, "-p", "cprofile", command=("./sct.py",))
    assert p.returncode == 128 + signal.SIGTERM, p.stderr
    run_dir = unpack(bundles(d)[0], d / "x")
    (proc,) = manifest(run_dir)["inject"]["processes"]
    assert "before_the_end" in functions(os.path.join(run_dir, proc["file"]))


def test_inject_profiles_a_forked_child_into_its_own_file(sct):
    d, env = sct
    write(d / "sct.py", "#!/usr/bin/python3\nimport os, sys\n"
          "def in_child():\n    return sum(range(1000))\n"
          "pid = os.fork()\nif pid == 0:\n    in_child()\n    sys.exit(0)\n"
          "os.waitpid(pid, 0)\n", 0o755)
    p = inject(d, env, "-p", "cprofile", command=("./sct.py",))
    assert p.returncode == 0, p.stderr
    run_dir = unpack(bundles(d)[0], d / "x")
    procs = manifest(run_dir)["inject"]["processes"]
    assert len(procs) == 2
    child = [x for x in procs if x["ppid"] == procs[0]["pid"]]
    assert child and "in_child" in functions(os.path.join(run_dir, child[0]["file"]))


def test_inject_keeps_the_sitecustomize_it_shadows(sct):
    d, env = sct
    os.makedirs(d / "site")
    write(d / "site" / "sitecustomize.py", "import os\nos.environ['FROM_SITECUSTOMIZE'] = 'yes'\n")
    write(d / "sct.py", "#!/usr/bin/python3\nimport os, sys\n"
          "sys.exit(0 if os.environ.get('FROM_SITECUSTOMIZE') == 'yes' "
          "and os.environ['HOOK_DIR'] not in sys.path else 9)\n", 0o755)
    env["PYTHONPATH"] = str(d / "site")
    env["HOOK_DIR"] = os.path.join(ROOT, "inject")
    p = inject(d, env, "-p", "cprofile", command=("./sct.py",))
    assert p.returncode == 0, p.stderr


def with_fakes(env):
    env["PYTHONPATH"] = INJECT_FAKES
    env["PATH"] = INJECT_FAKES_BIN + ":" + env["PATH"]
    return env


def test_inject_memory_uses_memray_tracker_with_follow_fork(sct):
    d, env = sct
    p = inject(d, with_fakes(env), "-p", "memory")
    assert p.returncode == 3, p.stderr
    run_dir = unpack(bundles(d)[0], d / "x")
    m = manifest(run_dir)
    assert m["tool"] == {"name": "memray", "version": "1.20.0+fake", "mode": "inject"}
    procs = m["inject"]["processes"]
    assert len(procs) == 2
    for proc in procs:
        assert proc["file"] == "memray.%d.bin" % proc["pid"] and proc["written"]
        with open(os.path.join(run_dir, proc["file"])) as f:
            rec = json.load(f)
        assert rec["follow_fork"] is True
        assert rec["calls"] == ["__init__", "__enter__", "__exit__"]
        assert rec["pid"] == proc["pid"]
        # The views, made by memray run by the process's own interpreter.
        assert proc["views"] == ["memray-stats.%d.json" % proc["pid"],
                                 "memray-flamegraph.%d.html" % proc["pid"]]
        for view in proc["views"]:
            assert os.path.exists(os.path.join(run_dir, view))
    # What `sctprof report` reads of a memory run: every process's stats.
    rep = run(["report", "--format", "json", bundles(d)[0]], cwd=d, env=env)
    assert rep.returncode == 0, rep.stderr
    assert sorted(p["file"] for p in json.loads(rep.stdout)["profiles"]) == sorted(
        "memray-stats.%d.json" % p["pid"] for p in procs)


def test_inject_timeline_uses_viztracer_start_stop_save(sct):
    d, env = sct
    p = inject(d, with_fakes(env), "-p", "timeline")
    assert p.returncode == 3, p.stderr
    # verbose=0: viztracer prints nothing into the test's own output.
    assert "Saving trace" not in p.stdout
    run_dir = unpack(bundles(d)[0], d / "x")
    procs = manifest(run_dir)["inject"]["processes"]
    assert len(procs) == 2
    for proc in procs:
        assert proc["file"] == "trace.%d.json" % proc["pid"]
        with open(os.path.join(run_dir, proc["file"])) as f:
            rec = json.load(f)
        assert rec["calls"] == ["__init__", "start", "stop", "save"]
        assert rec["verbose"] == 0


def test_inject_sampling_attaches_py_spy_to_each_process(sct):
    d, env = sct
    p = inject(d, with_fakes(env), "-p", "sampling")
    assert p.returncode == 3, p.stderr
    run_dir = unpack(bundles(d)[0], d / "x")
    procs = manifest(run_dir)["inject"]["processes"]
    assert len(procs) == 2
    for proc in procs:
        assert proc["file"] == "profile.%d.speedscope.json" % proc["pid"]
        with open(os.path.join(run_dir, proc["file"])) as f:
            rec = json.load(f)
        assert rec["argv"][:5] == ["record", "--pid", str(proc["pid"]), "--format", "speedscope"]
        # Stopped by the hook while the process ran, so the file was there in time.
        assert rec["interrupted"] is True
        assert os.path.basename(rec["argv"][rec["argv"].index("--output") + 1]) == proc["file"]


def test_inject_without_the_tool_records_why(sct):
    d, env = sct
    p = inject(d, env, "-p", "memory")
    assert p.returncode == 3
    m = manifest(unpack(bundles(d)[0], d / "x"))
    for proc in m["inject"]["processes"]:
        assert "memray" in proc["error"] and "written" in proc and not proc["written"]
    assert any("was not profiled" in w for w in m["warnings"])


def test_launcher_still_runs_isolated_interpreters(sct):
    """launcher.py imports the shared sctprof_cprofile by its own folder, so -I (no
    script folder on sys.path) still works, and the status is the program's."""
    d, env = sct
    write(d / "w.py", "import sys\ndef w():\n    return 1\nw()\nsys.exit(5)\n")
    p = run(["run", "-p", "cprofile", "--", PY, "-I", "w.py"], cwd=d, env=env)
    assert p.returncode == 5, p.stderr
    run_dir = unpack(bundles(d)[0], d / "x")
    assert "w" in functions(os.path.join(run_dir, "profile.stats"))


# --- interactive shells -------------------------------------------------------------

class Shell:
    """An interactive bash on a pseudo-terminal, as `hydra bash` gives one."""

    def __init__(self, argv, env, cwd):
        self.pid, self.fd = pty.fork()
        if self.pid == 0:
            os.chdir(cwd)
            os.execve(argv[0], argv, env)
        self.out = b""
        self.pos = 0

    def expect(self, text, timeout=60):
        want = text.encode()
        deadline = time.monotonic() + timeout
        while want not in self.out[self.pos:]:
            left = deadline - time.monotonic()
            ready = select.select([self.fd], [], [], max(left, 0))[0] if left > 0 else []
            if not ready:
                raise AssertionError("no %r from the shell; it wrote:\n%s" % (text, self.text()))
            try:
                data = os.read(self.fd, 4096)
            except OSError:
                data = b""
            if not data:
                raise AssertionError("the shell ended before %r; it wrote:\n%s" % (text, self.text()))
            self.out += data
        self.pos = self.out.index(want, self.pos) + len(want)

    def send(self, line):
        os.write(self.fd, (line + "\n").encode())

    def close(self):
        self.send("exit")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                os.close(self.fd)
                return os.waitstatus_to_exitcode(status)
            try:
                if select.select([self.fd], [], [], 0.1)[0]:
                    self.out += os.read(self.fd, 4096)
            except OSError:
                pass
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)
        raise AssertionError("the shell did not exit:\n%s" % self.text())

    def text(self):
        return self.out.decode(errors="replace")


def interactive(d, env):
    env = dict(env, PS1="$ ", BASH_ENV=HOOK)
    return Shell(["/bin/bash", "--rcfile", HOOK, "-i"], env, d)


def test_interactive_shell_greets_once_completes_and_wraps_nothing(sct):
    d, env = sct
    run(["hook", "refresh"], cwd=d, env=env, check=0)
    sh = interactive(d, env)
    sh.expect("sctprof: profile kinds for Python ")
    sh.send("echo MARK-$((6*7))")
    sh.expect("MARK-42")
    # SCT_PROFILE unset: neither the shell's commands nor a bash -c are wrapped.
    sh.send("./sct.py run-test x; echo STATUS-$?")
    sh.expect("STATUS-3")
    sh.send("bash -c './sct.py run-test x'; echo STATUS-$?")
    sh.expect("STATUS-3")
    # Completion is installed and offers the commands.
    sh.send("complete -p sctprof; COMP_WORDS=(sctprof ''); COMP_CWORD=1; _sctprof_complete; "
            "echo \"WORDS-$((1+1)):${COMPREPLY[*]}:\"")
    sh.expect("WORDS-2:")
    sh.expect(":")
    # A nested interactive shell is not greeted again.
    sh.send("bash --rcfile %s -i" % HOOK)
    sh.send("echo MARK-$((7*7))")
    sh.expect("MARK-49")
    sh.send("exit")
    sh.send("echo MARK-$((8*8))")
    sh.expect("MARK-64")
    assert sh.close() == 0
    out = sh.text()
    assert out.count("sctprof: profile kinds for Python") == 1
    assert "complete -F _sctprof_complete sctprof" in out
    words = re.search(r"WORDS-2:([^:]*):", out).group(1).split()
    assert {"run", "bundle", "hook"} <= set(words)
    assert not os.path.exists(d / "sct-profiles")


def test_interactive_shell_starts_without_sctprof(sct):
    d, env = sct
    env["PATH"] = "/usr/bin:/bin"
    assert shutil.which("sctprof", path=env["PATH"]) is None
    sh = interactive(d, env)
    sh.send("echo MARK-$((6*7))")
    sh.expect("MARK-42")
    assert sh.close() == 0
    assert sh.text().count("sctprof:") == 1


def test_interactive_shell_ignores_a_broken_sctprof(sct, tmp_path):
    """A sctprof that prints something else than the hook (and would run it, were it
    evaluated) or fails: one line, and the shell works."""
    d, env = sct
    fake = tmp_path / "fakebin"
    os.makedirs(fake)
    write(fake / "sctprof", "#!/bin/sh\necho 'echo PWNED-$((1+1))'\nexit 0\n", 0o755)
    env["PATH"] = "%s:/usr/bin:/bin" % fake
    sh = interactive(d, env)
    sh.send("echo MARK-$((6*7))")
    sh.expect("MARK-42")
    assert sh.close() == 0
    out = sh.text()
    assert "PWNED-2" not in out
    assert out.count("sctprof:") == 1 and "failed" in out


def test_cached_hook_code_is_used_and_renewed_for_a_new_binary(sct, tmp_path):
    """The first shell writes the cached code; later shells source it without starting
    sctprof; a newer binary makes the loader ask sctprof again."""
    d, env = sct
    fake = tmp_path / "fakebin"
    os.makedirs(fake)
    log = tmp_path / "calls"
    write(fake / "sctprof", "#!/bin/sh\necho \"$*\" >> %s\nexec %s \"$@\"\n" % (log, SCTPROF), 0o755)
    env["PATH"] = "%s:/usr/bin:/bin" % fake
    run(["hook", "refresh"], cwd=d, env=env, check=0)
    shell = ["/bin/bash", "--rcfile", HOOK, "-i", "-c", "type _sctprof_complete >/dev/null && echo HOOKED"]
    for _ in range(3):
        p = subprocess.run(shell, cwd=d, env=env, capture_output=True, text=True, timeout=60)
        assert "HOOKED" in p.stdout, p.stderr
    with open(log) as f:
        calls = [l for l in f.read().splitlines() if l.startswith("hook bash")]
    assert len(calls) == 1 and calls[0].startswith("hook bash --write /")
    (cached,) = glob.glob(str(tmp_path / "cache" / "sctprof" / "hook-*.bash"))
    later = os.stat(cached).st_mtime + 10
    os.utime(fake / "sctprof", (later, later))
    p = subprocess.run(shell, cwd=d, env=env, capture_output=True, text=True, timeout=60)
    assert "HOOKED" in p.stdout
    with open(log) as f:
        assert len([l for l in f.read().splitlines() if l.startswith("hook bash")]) == 2


# --- completion, generated from the command table and the usage texts ---------------

def complete(env, d, *words):
    """COMPREPLY for `sctprof WORDS...<TAB>` (the last word is the one being completed)."""
    script = ('eval "$(sctprof hook bash)"; COMP_WORDS=(sctprof %s); COMP_CWORD=%d; '
              '_sctprof_complete; printf "%%s\\n" "${COMPREPLY[@]}"'
              % (" ".join("'%s'" % w for w in words), len(words)))
    p = subprocess.run(["/bin/bash", "--norc", "-i", "-c", script], cwd=d, env=env,
                       capture_output=True, text=True, timeout=60)
    return [w for w in p.stdout.splitlines() if w]


def test_completion_follows_the_help_texts(sct):
    d, env = sct
    helptext = run(["--help"], env=env, check=0).stdout
    commands = re.findall(r"^  (\w+) ", helptext.split("Commands:")[1].split("\n\n")[0], re.M)
    assert "run" in commands and "hook" in commands
    assert set(commands) <= set(complete(env, d, ""))
    run_help = run(["run", "--help"], env=env, check=0).stdout
    run_opts = set(re.findall(r"^ {2,8}(?:-\w, )?(--[\w-]+)", run_help, re.M))
    assert run_opts and run_opts <= set(complete(env, d, "run", "--"))
    assert "--inject-match" in complete(env, d, "run", "--inj")
    kinds = complete(env, d, "run", "-p", "")
    assert kinds == ["cprofile", "sampling", "memory", "timeline", "scalene", "imports"]
    assert complete(env, d, "run", "--profile", "=", "me") == ["memory"]
    assert complete(env, d, "bundle", "--format", "") == ["tar.zst", "tar.gz", "zip"]
    assert complete(env, d, "hook", "") == ["bash", "refresh"]
    # After "--" of run: a command to run.
    assert "bash" in complete(env, d, "run", "--", "bas")


# --- the image's Dockerfile (it cannot be built here: no container engine) ------------

def dockerfile_instructions(path):
    """(instruction, arguments) pairs, continuation lines joined, comments dropped."""
    out, cur = [], ""
    with open(path) as f:
        for line in f:
            s = line.rstrip("\n")
            if not cur and (not s.strip() or s.lstrip().startswith("#")):
                continue
            if s.endswith("\\"):
                cur += s[:-1] + " "
                continue
            cur += s
            word, _, rest = cur.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
            cur = ""
    return out


def dockerfile_problems(path, context):
    """What a build would trip over: COPY sources missing from the build context, and
    ${VAR} uses no ARG (or ENV) of their scope declares. An ARG before the first FROM
    serves FROM lines only; each stage declares its own."""
    problems, declared_global, declared, stages = [], set(), None, 0
    for word, rest in dockerfile_instructions(path):
        used = set(re.findall(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)", rest))
        if word == "FROM":
            stages += 1
            problems += ["FROM uses undeclared %s" % v for v in sorted(used - declared_global)]
            declared = set()
            continue
        if word == "ARG":
            name = rest.split("=", 1)[0].strip()
            (declared_global if declared is None else declared).add(name)
            continue
        if declared is None:
            problems.append("%s before the first FROM" % word)
            continue
        if word == "ENV":
            declared |= set(re.findall(r"(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=", rest))
            used -= declared
        if word == "RUN":
            # Variables a RUN line sets itself are the shell's; Dockerfile ARGs are
            # written in capitals.
            used = {u for u in used if u.isupper()} - set(re.findall(r"\b([A-Z_][A-Z0-9_]*)=", rest))
        problems += ["%s uses undeclared %s" % (word, v) for v in sorted(used - declared)]
        if word in ("COPY", "ADD") and "--from=" not in rest:
            parts = [p for p in rest.split() if not p.startswith("--")]
            problems += ["COPY source %s is not in the build context" % src for src in parts[:-1]
                         if not glob.glob(os.path.join(context, src))]
    if stages < 2:
        problems.append("no builder stage")
    return problems


def test_dockerfile_copies_what_exists_and_declares_every_arg():
    assert dockerfile_problems(os.path.join(ROOT, "container", "Dockerfile"), ROOT) == []


def test_dockerfile_check_finds_what_it_looks_for(tmp_path):
    bad = write(tmp_path / "Dockerfile", "ARG BASE\nFROM ${BASE} AS b\nRUN echo ${LATE}\n"
                "FROM ${OTHER}\nARG LATE\nCOPY nowhere/ /x\nCOPY --from=b /y /y\n"
                "RUN for f in a; do echo $f; done && echo ${LATE} ${BASE}\n")
    assert dockerfile_problems(bad, ROOT) == [
        "RUN uses undeclared LATE", "FROM uses undeclared OTHER",
        "COPY source nowhere/ is not in the build context", "RUN uses undeclared BASE"]


# --- which processes the start-up hook profiles -------------------------------------

PROGRAMS = [
    (["python3", "./sct.py", "run-test", "x"], "./sct.py"),
    (["python3", "-u", "-X", "dev", "-m", "pytest", "-x"], "pytest"),
    (["python3", "-Xdev", "-mpytest"], "pytest"),
    (["python3", "-Bm", "pytest", "tests/"], "pytest"),
    (["python3", "-c", "print(1)", "sct.py"], "-c"),
    (["python3", "-W", "ignore", "-I", "sct.py"], "sct.py"),
    (["python3", "--check-hash-based-pycs", "never", "x.py"], "x.py"),
    (["python3", "-", "sct.py"], "-"),
    (["python3"], "-"),
    (["/venv/bin/python", "/venv/bin/pytest", "-k", "sct.py"], "/venv/bin/pytest"),
]

MATCHES = [
    ("./sct.py", "sct.py,pytest,py.test", True),
    ("/venv/bin/pytest", "sct.py,pytest,py.test", True),
    ("pytest", "sct.py,pytest,py.test", True),
    ("worker_3.py", "sct.py, work*.py", True),
    ("/srv/sct/sct.py", "/srv/*/sct.py", True),
    ("-c", "sct.py,pytest,py.test", False),
    ("pytest_cov", "sct.py,pytest,py.test", False),
    ("my-sct.py", "sct.py", False),
    ("sct.py", "", False),
]


def test_the_hook_finds_the_program_as_python_does():
    """sitecustomize.py's reading of a command line, and its matching, in the interpreter
    it runs in (loaded under another name: importing it as sitecustomize would run it)."""
    code = ("import importlib.util, json, sys\n"
            "spec = importlib.util.spec_from_file_location('hook', sys.argv[1])\n"
            "m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)\n"
            "cases = json.loads(sys.argv[2]); matches = json.loads(sys.argv[3])\n"
            "print(json.dumps([[m._sctprof_program(a) for a, _ in cases],\n"
            "                  [m._sctprof_matches(p, pats) for p, pats, _ in matches]]))\n")
    p = subprocess.run([PY, "-c", code, os.path.join(ROOT, "inject", "sitecustomize.py"),
                        json.dumps(PROGRAMS), json.dumps(MATCHES)],
                       env=clean_env(), capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    programs, matched = json.loads(p.stdout)
    assert programs == [want for _, want in PROGRAMS]
    assert matched == [want for _, _, want in MATCHES]


def test_a_record_left_by_a_killed_run_never_reaches_a_bundle(sct):
    """The hook's records hold command lines as they were; `sctprof bundle` of a folder
    a killed run left behind leaves them out."""
    d, env = sct
    p = inject(d, env, "-p", "cprofile", "--no-archive")
    assert p.returncode == 3, p.stderr
    (run_dir,) = [x for x in glob.glob(str(d / "sct-profiles" / "*"))
                  if os.path.isdir(x) and not os.path.islink(x)]
    write(os.path.join(run_dir, ".proc-4242"), "pid 4242\nargv\npython3\0sct.py\0--password\0hunter22")
    p = run(["bundle", run_dir], cwd=d, env=env)
    assert p.returncode == 0, p.stderr
    (bundle,) = bundles(d)
    members = subprocess.run(["tar", "--zstd", "-tf", bundle], capture_output=True, text=True,
                             check=True).stdout.split()
    assert not [m for m in members if "/.proc-" in m]
    assert len([m for m in members if m.endswith(".stats")]) == 2
