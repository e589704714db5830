"""sctprof attach: a test already running under /usr/bin/python3 (or a venv's python, or
the 3.15 stand-in) profiled for a while, into the same run folder, manifest and bundle
as sctprof run; the process keeps running."""

import os
import signal
import subprocess

import pytest

from conftest import PY, SCTPROF, clean_env
from kinds import (FOREVER, PY315, artifacts, fakes_env, make_venv, manifest, run_folder,
                   wait_for_line)


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    return make_venv(str(tmp_path_factory.mktemp("venv") / "v"))


@pytest.fixture
def target(request):
    """Starts forever.py with the given interpreter; yields its Popen once it works."""
    procs = []

    def start(python):
        p = subprocess.Popen([python, FOREVER], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, env=clean_env())
        procs.append(p)
        wait_for_line(p, "ready")
        return p

    yield start
    for p in procs:
        p.kill()
        p.wait()


CASES = [
    # (id, kind, extra options, interpreter, files)
    ("py-spy", "sampling", [], PY, ["profile.speedscope.json", "profile.svg"]),
    ("memray", "memory", [], "venv",
     ["memray.bin", "memray-stats.json", "memray-flamegraph.html"]),
    ("profiling.sampling", "sampling", ["--tool", "profiling.sampling", "--python", PY315],
     PY315, ["profile.stats", "flamegraph.html"]),
]


def attach(pid, kind, out, *extra):
    return [SCTPROF, "attach", "--pid", str(pid), "-p", kind, "-o", str(out)] + list(extra)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0])
def test_attach_for_a_duration(case, venv, target, tmp_path):
    _, kind, extra, python, files = case
    proc = target(venv if python == "venv" else python)
    r = subprocess.run(attach(proc.pid, kind, tmp_path / "out", "--duration", "1s", *extra),
                       env=fakes_env(), capture_output=True, text=True, timeout=180)
    assert r.returncode == 0, r.stderr
    assert proc.poll() is None, "the attached process must keep running"
    folder = run_folder(tmp_path / "out")
    m = manifest(folder)
    assert m["target"]["attached_pid"] == proc.pid
    assert m["kind"] == kind and m["tool"]["version"]
    assert FOREVER in m["argv"]
    arts = artifacts(m)
    for name in files + ["summary.txt"]:
        assert os.path.getsize(os.path.join(folder, name)) > 0, name
        assert name in arts, name
    assert all(s["ok"] for s in m["post_processing"]), m["post_processing"]
    assert os.path.exists(str(folder) + ".tar.zst")


@pytest.mark.parametrize("case,started", [
    (CASES[0], "Sampling process"),
    (CASES[1], "memray is tracking process"),
], ids=["py-spy", "memray"])
def test_attach_until_ctrl_c(case, started, venv, target, tmp_path):
    """Without --duration the profile ends with Ctrl-C (SIGINT): still a profile, exit 0."""
    _, kind, extra, python, files = case
    proc = target(venv if python == "venv" else python)
    a = subprocess.Popen(attach(proc.pid, kind, tmp_path / "out", *extra), env=fakes_env(),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        wait_for_line(a, started)
        a.send_signal(signal.SIGINT)
        _, err = a.communicate(timeout=180)
    finally:
        if a.poll() is None:
            a.kill()
    assert a.returncode == 0, err
    assert proc.poll() is None
    folder = run_folder(tmp_path / "out")
    assert os.path.getsize(os.path.join(folder, files[0])) > 0
    assert manifest(folder)["ended"]["how"] == "stopped"


def test_attach_to_no_process(tmp_path):
    r = subprocess.run(attach(4194303, "sampling", tmp_path / "out"), env=fakes_env(),
                       capture_output=True, text=True)
    assert r.returncode == 66, r.stderr
    assert "no such process" in r.stderr and "Traceback" not in r.stderr


def test_attach_to_something_not_python(tmp_path):
    p = subprocess.Popen(["sleep", "60"])
    try:
        r = subprocess.run(attach(p.pid, "sampling", tmp_path / "out"), env=fakes_env(),
                           capture_output=True, text=True)
    finally:
        p.kill()
        p.wait()
    assert r.returncode == 64, r.stderr
    assert "not a Python interpreter" in r.stderr


def test_attach_refuses_other_kinds(tmp_path):
    r = subprocess.run(attach(os.getpid(), "timeline", tmp_path / "out"), env=fakes_env(),
                       capture_output=True, text=True)
    assert r.returncode == 64
    assert "'sampling' or 'memory'" in r.stderr


def test_attach_with_a_tool_that_cannot(target, tmp_path):
    proc = target(PY)
    r = subprocess.run(attach(proc.pid, "memory", tmp_path / "out", "--tool", "scalene"),
                       env=fakes_env(), capture_output=True, text=True)
    assert r.returncode == 64
    assert "cannot attach" in r.stderr
