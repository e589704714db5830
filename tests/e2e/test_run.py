"""`sctprof run` end to end with the real cProfile (issue 2): exit statuses, stops by
signal, threads, bundles read by GNU tar and bsdtar, every target form seen exactly as
plain Python sees it, each bad input, and secrets kept out of manifests and messages."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import zipfile

import pytest

from conftest import PY, SCTPROF, clean_env, run, write
from runs import (HANG, bundles, check_extracted, finish, one_line, only_run, run_dirs,
                  start, stats_functions, stats_loads, unshare_works, wait_for_file)

# A program that says where it is and how it was started, as JSON on stdout: the same
# text with and without sctprof means the program cannot tell it is being profiled.
FACTS = r'''
import json, sys
def facts():
    buf = getattr(sys.stdout, "buffer", None)
    return {
        "argv": sys.argv,
        "path0": sys.path[0] if sys.path else None,
        "name": __name__,
        "flags": {k: getattr(sys.flags, k) for k in
                  ("dev_mode", "optimize", "isolated", "safe_path", "verbose",
                   "dont_write_bytecode", "no_user_site", "ignore_environment")
                  if hasattr(sys.flags, k)},
        "warnoptions": sys.warnoptions,
        "xoptions": sys._xoptions,
        "write_through": getattr(sys.stdout, "write_through", None),
        "stdout_buffer": type(buf).__name__,
        "main_file": getattr(sys.modules["__main__"], "__file__", None),
    }
print("FACTS " + json.dumps(facts(), sort_keys=True))
'''


def facts_of(stdout):
    lines = [l for l in stdout.splitlines() if l.startswith("FACTS ")]
    assert len(lines) == 1, stdout
    return json.loads(lines[0][6:])


def plain(argv, cwd, env=None):
    return subprocess.run(argv, cwd=cwd, env=env or clean_env(), capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, timeout=HANG)


def profiled(argv, cwd, out="out", env=None, extra=()):
    return run(["run", "-o", out] + list(extra) + ["--"] + list(argv), cwd=cwd,
               env=env or clean_env())


# ---------------------------------------------------------------- exit statuses


@pytest.mark.parametrize("code", [0, 3])
def test_exit_status_kept(workdir, code):
    write("t.py", "import sys\ndef work():\n    return sum(range(1000))\nwork()\nsys.exit(%d)\n" % code)
    p = profiled([PY, "t.py"], workdir)
    assert p.returncode == code, p.stderr
    run_dir, m = only_run("out")
    assert m["ended"]["how"] == "exit"
    assert m["ended"]["exit_status"] == code
    assert "work" in stats_functions(os.path.join(run_dir, "profile.stats"))


def test_uncaught_exception_exits_1(workdir):
    write("t.py", "def boom():\n    raise ValueError('no cluster')\nboom()\n")
    p = profiled([PY, "t.py"], workdir)
    assert p.returncode == 1
    assert "ValueError: no cluster" in p.stderr
    run_dir, m = only_run("out")
    assert m["ended"]["exit_status"] == 1
    assert "boom" in stats_functions(os.path.join(run_dir, "profile.stats"))


SLEEPER = r'''
import sys, time
def busy_until_stopped(marker):
    open(marker, "w").close()
    n = 0
    while True:
        n += 1
        if n % 1000 == 0:
            time.sleep(0.01)
busy_until_stopped(sys.argv[1])
'''


@pytest.mark.parametrize("sig,code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_signal_to_sctprof_keeps_profile(workdir, sig, code):
    write("t.py", SLEEPER)
    proc = start(["run", "-o", "out", "--", PY, "t.py", "ready"], cwd=workdir)
    wait_for_file(workdir / "ready", proc)
    proc.send_signal(sig)
    status, _, err = finish(proc)
    assert status == code, err
    run_dir, m = only_run("out")
    stats = os.path.join(run_dir, "profile.stats")
    assert "busy_until_stopped" in stats_functions(stats)
    assert m["ended"]["how"] == "stopped"
    assert m["ended"]["stopped_by"] == signal.Signals(sig).name[3:]
    assert m["ended"]["exit_status"] == code
    assert len(bundles("out")) == 1


# ---------------------------------------------------------------- threads

THREADED = r'''
import threading
def only_in_worker():
    return sum(i * i for i in range(20000))
def main_work():
    t = threading.Thread(target=only_in_worker)
    t.start()
    t.join()
main_work()
'''


@pytest.mark.skipif(sys.version_info[:2] != (3, 11) and not os.path.exists("/usr/bin/python3.11"),
                    reason="needs an interpreter before 3.12, where cProfile sees one thread")
@pytest.mark.parametrize("threads,present", [("all", True), ("main", False), (None, True)])
def test_threads(workdir, threads, present):
    write("t.py", THREADED)
    extra = ["--threads=" + threads] if threads else []
    p = profiled(["/usr/bin/python3.11", "t.py"], workdir, extra=extra)
    assert p.returncode == 0, p.stderr
    run_dir, m = only_run("out")
    funcs = stats_functions(os.path.join(run_dir, "profile.stats"))
    assert "main_work" in funcs
    assert ("only_in_worker" in funcs) == present
    assert m["threads"] == (threads or "all")


# ---------------------------------------------------------------- bundles


def test_bundle_reads_with_gnu_tar_and_bsdtar(workdir):
    write("t.py", "def work():\n    return sorted(range(5000), key=lambda x: -x)\nwork()\n")
    p = profiled([PY, "t.py"], workdir)
    assert p.returncode == 0, p.stderr
    [bundle] = bundles("out")
    run_id = os.path.basename(bundle)[:-len(".tar.zst")]
    assert os.readlink("out/latest") == os.path.basename(bundle)
    for tool, argv in (("gnu", ["tar", "--zstd", "-xf", bundle, "-C"]),
                       ("bsd", ["bsdtar", "-xf", bundle, "-C"])):
        dest = workdir / tool
        dest.mkdir()
        subprocess.run(argv + [str(dest)], check=True)
        m = check_extracted(dest, run_id)
        assert m["ended"]["exit_status"] == 0
    # The bundle's manifest is the run folder's.
    with open(os.path.join("out", run_id, "manifest.json")) as f:
        assert json.load(f) == m
    # manifest.json is the last member (it carries the others' SHA-256).
    names = subprocess.run(["bsdtar", "-tf", bundle], capture_output=True, text=True,
                           check=True).stdout.split()
    assert names[-1] == run_id + "/manifest.json"
    assert all(n.startswith(run_id + "/") for n in names)


@pytest.mark.parametrize("fmt", ["tar.gz", "zip"])
def test_other_formats(workdir, fmt):
    write("t.py", "def work():\n    return sum(range(1000))\nwork()\n")
    p = profiled([PY, "t.py"], workdir, extra=["--format", fmt])
    assert p.returncode == 0, p.stderr
    [bundle] = bundles("out")
    assert bundle.endswith("." + fmt)
    run_id = os.path.basename(bundle)[:-len(fmt) - 1]
    assert os.readlink("out/latest") == os.path.basename(bundle)
    dest = workdir / "x"
    dest.mkdir()
    if fmt == "zip":
        with zipfile.ZipFile(bundle) as z:
            assert z.testzip() is None
            z.extractall(dest)
    else:
        subprocess.run(["tar", "-xzf", bundle, "-C", str(dest)], check=True)
    check_extracted(dest, run_id)
    dest2 = workdir / "y"
    dest2.mkdir()
    subprocess.run(["bsdtar", "-xf", bundle, "-C", str(dest2)], check=True)
    check_extracted(dest2, run_id)


def test_latest_points_at_newest(workdir):
    write("t.py", "pass\n")
    for _ in range(2):
        p = profiled([PY, "t.py"], workdir)
        assert p.returncode == 0, p.stderr
    dirs = run_dirs("out")
    assert len(dirs) == 2
    newest = max(dirs, key=lambda d: json.load(open(os.path.join(d, "manifest.json")))["start"])
    assert os.readlink("out/latest") == os.path.basename(newest) + ".tar.zst"
    assert os.path.exists("out/latest")


def test_no_archive(workdir):
    write("t.py", "def work():\n    return 1\nwork()\n")
    p = profiled([PY, "t.py"], workdir, extra=["--no-archive"])
    assert p.returncode == 0, p.stderr
    assert bundles("out") == []
    run_dir, m = only_run("out")
    assert os.readlink("out/latest") == os.path.basename(run_dir)
    check_extracted("out", os.path.basename(run_dir))


# ---------------------------------------------------------------- target forms


def same_as_plain(workdir, argv, env=None):
    """Runs argv plainly and under sctprof; the program's facts must be equal."""
    want = plain(argv, workdir, env)
    got = profiled(argv, workdir, env=env)
    assert got.returncode == want.returncode == 0, got.stderr + want.stderr
    assert facts_of(got.stdout) == facts_of(want.stdout)
    run_dir, m = only_run("out")
    assert stats_loads(os.path.join(run_dir, "profile.stats"))
    shutil.rmtree("out")
    return facts_of(got.stdout), m


def test_script_with_args(workdir):
    write("facts.py", FACTS)
    f, m = same_as_plain(workdir, [PY, "facts.py", "a", "--b", "c d"])
    assert f["argv"] == ["facts.py", "a", "--b", "c d"]
    assert f["name"] == "__main__"
    assert m["target"]["mode"] == "script"


def test_script_in_subfolder(workdir):
    os.mkdir("sub")
    write("sub/facts.py", FACTS)
    f, _ = same_as_plain(workdir, [PY, "sub/facts.py", "x"])
    assert f["path0"] == str(workdir / "sub")


def test_module_with_versioned_interpreter(workdir):
    interp = "/usr/bin/python%d.%d" % sys.version_info[:2]
    if not os.path.exists(interp):
        interp = "/usr/bin/python3.11"
    write("factsmod.py", FACTS)
    f, m = same_as_plain(workdir, [interp, "-m", "factsmod", "a", "-b"])
    assert f["argv"][1:] == ["a", "-b"]
    assert f["name"] == "__main__"
    assert m["target"]["mode"] == "module"


def test_package_module(workdir):
    os.mkdir("pkg")
    write("pkg/__init__.py", "")
    write("pkg/__main__.py", FACTS)
    f, _ = same_as_plain(workdir, [PY, "-m", "pkg", "z"])
    assert f["argv"][1:] == ["z"]


def test_code_string(workdir):
    f, m = same_as_plain(workdir, [PY, "-c", FACTS, "x", "y"])
    assert f["argv"] == ["-c", "x", "y"]
    assert f["path0"] == ""
    assert m["target"]["mode"] == "code"


@pytest.mark.parametrize("opts", [["-u"], ["-X", "dev"], ["-W", "error"], ["-O", "-X", "utf8"],
                                  ["-Werror::DeprecationWarning", "-B"]])
def test_interpreter_options_kept(workdir, opts):
    write("facts.py", FACTS)
    f, m = same_as_plain(workdir, [PY] + opts + ["facts.py", "arg"])
    assert m["target"]["interpreter_options"] == opts
    if "-u" in opts:
        assert f["write_through"] is True
    if "dev" in opts:
        assert f["flags"]["dev_mode"] is True and f["xoptions"].get("dev") is True
    if "error" in opts:
        assert f["warnoptions"] == ["error"]


def test_interpreter_options_with_module(workdir):
    write("factsmod.py", FACTS)
    f, _ = same_as_plain(workdir, [PY, "-u", "-X", "dev", "-m", "factsmod", "q"])
    assert f["flags"]["dev_mode"] is True


@pytest.mark.parametrize("shebang", ["#!/usr/bin/python3", "#!/usr/bin/env python3",
                                     "#!/usr/bin/env -S python3 -u", "#!/usr/bin/python3 -X dev"])
def test_shebang_script(workdir, shebang):
    write("sct.py", shebang + "\n" + FACTS, 0o755)
    f, m = same_as_plain(workdir, ["./sct.py", "run-test", "longevity_test", "--backend", "docker"])
    assert f["argv"] == ["./sct.py", "run-test", "longevity_test", "--backend", "docker"]
    assert m["target"]["python"] == "/usr/bin/python3"
    if "-u" in shebang:
        assert f["write_through"] is True


def test_console_script_on_path(workdir):
    os.mkdir("bin")
    write("bin/sct-facts", "#!/usr/bin/python3\n" + FACTS, 0o755)
    env = clean_env()
    env["PATH"] = str(workdir / "bin") + ":" + env["PATH"]
    f, _ = same_as_plain(workdir, ["sct-facts", "one", "two"], env=env)
    assert f["argv"] == [str(workdir / "bin" / "sct-facts"), "one", "two"]
    assert f["path0"] == str(workdir / "bin")


@pytest.mark.skipif(not os.path.exists("/usr/bin/pytest-3"), reason="python3-pytest not installed")
@pytest.mark.parametrize("name", ["pytest", "pytest-3"])
def test_pytest_console_script(workdir, name):
    write("test_small.py", "def helper_in_test():\n    return 2\n"
          "def test_passes():\n    assert helper_in_test() == 2\n"
          "def test_fails():\n    assert helper_in_test() == 3\n")
    want = plain([name, "-q", "-p", "no:cacheprovider", "test_small.py"], workdir)
    p = profiled([name, "-q", "-p", "no:cacheprovider", "test_small.py"], workdir)
    assert p.returncode == want.returncode == 1, p.stdout + p.stderr
    assert "1 failed, 1 passed" in p.stdout
    run_dir, m = only_run("out")
    assert m["target"]["mode"] == "script"
    assert "helper_in_test" in stats_functions(os.path.join(run_dir, "profile.stats"))


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize("args,needle", [
    (["run", "--bogus", "--", PY, "t.py"], "--bogus"),
    (["run", "-p", "heap", "--", PY, "t.py"], "'heap'"),
    (["run", "--format", "rar", "--", PY, "t.py"], "'rar'"),
    (["run", "--threads", "some", "--", PY, "t.py"], "'some'"),
    (["run", "--timeout", "soon", "--", PY, "t.py"], "'soon'"),
    (["run", "--timeout"], "--timeout"),
    (["run", PY, "t.py"], "'--'"),
    (["run", "-p", "cprofile", PY, "t.py"], "'--'"),
    (["run"], "no command"),
    (["run", "--"], "no command"),
    (["run", "--", PY], "nothing to profile"),
    (["run", "--", PY, "-c"], "-c"),
    (["run", "--", PY, "-V"], "-V"),
])
def test_usage_errors(workdir, args, needle):
    write("t.py", "pass\n")
    p = run(args)
    assert p.returncode == 64
    assert needle in one_line(p.stderr)
    assert not os.path.exists("sct-profiles")


def test_not_python_targets(workdir):
    write("run.sh", "#!/bin/sh\necho hi\n", 0o755)
    write("noshebang", "echo hi\n", 0o755)
    os.mkdir("adir")
    cases = [
        (["./run.sh"], "'./run.sh' is a script for '/bin/sh'"),
        (["/bin/true"], "ELF binary"),
        (["./missing.py"], "'./missing.py'"),
        ([PY, "missing.py"], "'missing.py'"),
        (["./noshebang"], "no '#!' line"),
        (["no-such-command-xyz"], "'no-such-command-xyz'"),
        (["./adir"], "directory"),
    ]
    for argv, needle in cases:
        p = run(["run", "-o", "out", "--"] + argv)
        assert p.returncode == 64, (argv, p.stderr)
        assert needle in one_line(p.stderr), (argv, p.stderr)
        assert not os.path.exists("out")


def test_missing_interpreter(workdir):
    write("t.py", "pass\n")
    write("old.py", "#!/usr/bin/python2.9\nprint(1)\n", 0o755)
    for argv, needle in (([os.path.join(str(workdir), "python3.99"), "t.py"], "python3.99"),
                         (["python3.99", "t.py"], "'python3.99'"),
                         (["./old.py"], "python2.9"),
                         (["--python", "/nowhere/python3", "--", PY, "t.py"], "/nowhere/python3")):
        args = ["run", "-o", "out"] + (argv if argv[0] == "--python" else ["--"] + argv)
        p = run(args)
        assert p.returncode == 66, (argv, p.stderr)
        assert needle in one_line(p.stderr)
        assert not os.path.exists("out")


def test_output_dir_cannot_be_created(workdir):
    write("t.py", "pass\n")
    write("afile", "")
    p = run(["run", "-o", "afile/out", "--", PY, "t.py"])
    assert p.returncode == 73
    assert "afile" in one_line(p.stderr)


@pytest.mark.skipif(os.geteuid() != 0 or not unshare_works("--mount"),
                    reason="needs root and unshare --mount for a read-only file system")
def test_output_dir_not_writable(workdir):
    write("t.py", "pass\n")
    os.mkdir("ro")
    script = ("mount -t tmpfs -o size=1m,ro tmpfs ro && exec \"$@\"")
    p = subprocess.run(["unshare", "--mount", "sh", "-c", script, "sh", SCTPROF, "run",
                        "-o", "ro/out", "--", PY, "t.py"], capture_output=True, text=True,
                       env=clean_env(), cwd=workdir, timeout=HANG, stdin=subprocess.DEVNULL)
    assert p.returncode == 73, p.stderr
    line = one_line(p.stderr)
    assert "ro/out" in line and "Read-only file system" in line


# A test that writes a large, incompressible log into its run folder (found as the one
# folder in OUTDIR), then fills what is left of the disk but a little: the profile
# still fits, the bundle does not.
FILL = r'''
import os, sys
def fill(out):
    [run] = [d for d in os.listdir(out) if os.path.isdir(os.path.join(out, d))]
    with open(os.path.join(out, run, "test.log"), "wb") as f:
        f.write(os.urandom(3 << 20))
    st = os.statvfs(out)
    free = st.f_bavail * st.f_frsize
    with open(os.path.join(out, "filler"), "wb") as f:
        f.write(b"\0" * max(free - (512 << 10), 0))
fill(sys.argv[1])
'''


@pytest.mark.skipif(os.geteuid() != 0 or not unshare_works("--mount"),
                    reason="needs root and unshare --mount for a small tmpfs")
def test_full_disk_while_bundling(workdir):
    write("t.py", FILL)
    os.mkdir("small")
    script = "mount -t tmpfs -o size=8m tmpfs small && \"$@\"; s=$?; cp -a small/. kept/; exit $s"
    os.mkdir("kept")
    p = subprocess.run(["unshare", "--mount", "sh", "-c", script, "sh", SCTPROF, "run",
                        "-o", "small", "--", PY, "t.py", "small"], capture_output=True,
                       text=True, env=clean_env(), cwd=workdir, timeout=HANG,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 74, p.stderr
    # Through a pipe: the phases' plain lines, then the one error line.
    *phases, line = p.stderr.splitlines()
    assert phases[-1].startswith("sctprof: bundling ")
    assert all(re.match(r"sctprof: (post-processing|bundling )", l) for l in phases)
    assert line.startswith("sctprof: cannot write '") and "No space left on device" in line
    assert ".tar.zst" in line
    run_dir, m = only_run("kept")
    assert "No space left on device" in m["bundle"]["error"]
    assert stats_loads(os.path.join(run_dir, "profile.stats"))
    assert os.path.getsize(os.path.join(run_dir, "test.log")) == 3 << 20
    assert os.path.basename(run_dir) + "/" in line  # where the raw profile was kept
    assert bundles("kept") == []
    assert not [f for f in os.listdir("kept") if ".tmp-" in f]


# ---------------------------------------------------------------- secrets

SECRETS = {
    "SCT_DB_SECRET": "s3cr3t-db-value",
    "GITHUB_TOKEN": "ghp_tokenvalue123",
    "SCYLLA_PASSWORD": "pa55w0rd-value",
    "API_KEY": "apikey-value-42",
    "AWS_ACCESS_KEY_ID": "AKIAEXAMPLEVALUE",
    "AWS_SESSION": "aws-session-value",
}


def test_secrets_never_in_manifest_or_stderr(workdir):
    write("t.py", "import sys\nprint('args', len(sys.argv))\n")
    env = clean_env(**SECRETS)
    env["BUILD_URL"] = "https://jenkins:jenkinspass99@ci.example/job/1/"
    argv = [PY, "t.py", "https://user:urlpass77@repo.example/x", "--password", "argpass-value",
            "--token=tokenopt-value", "ghp_tokenvalue123", "SCYLLA_PASSWORD=pa55w0rd-value"]
    p = run(["-v", "run", "-o", "out", "--"] + argv, env=env)
    assert p.returncode == 0, p.stderr
    run_dir, _ = only_run("out")
    texts = [p.stderr, open(os.path.join(run_dir, "manifest.json")).read()]
    secrets = list(SECRETS.values()) + ["jenkinspass99", "urlpass77", "argpass-value",
                                        "tokenopt-value"]
    for text in texts:
        for s in secrets:
            assert s not in text, s
    m = json.loads(texts[1])
    assert m["argv"][2] == "https://***@repo.example/x"
    assert m["environment"]["jenkins"]["build_url"] == "https://***@ci.example/job/1/"


def test_secrets_not_in_error_messages(workdir):
    env = clean_env(**SECRETS)
    for args in (["run", "--api-token=tokenopt-value", "--", PY, "t.py"],
                 ["run", "--", PY, "https://user:urlpass77@repo.example/x.py"],
                 ["run", "--", "./ghp_tokenvalue123.py"]):
        p = run(args, env=env)
        assert p.returncode == 64
        line = one_line(p.stderr)
        for s in ("tokenopt-value", "urlpass77", "ghp_tokenvalue123"):
            assert s not in line, line
