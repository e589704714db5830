"""Every profile kind with every tool of its list: the fixed files, summary.txt, the
manifest (tool, version, artifacts with SHA-256), the test's own exit status whatever
the tool does with it, and a run stopped mid-way that keeps its raw profile."""

import glob
import gzip
import json
import os
import signal
import subprocess

import pytest

from conftest import PY, SCTPROF, clean_env
from kinds import (CASES, FOREVER, RAW, WORK, artifacts, fakes_env, interpreter,
                   make_venv, manifest, run_case, run_folder, sctprof_argv, sha256,
                   wait_for_line)


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    return make_venv(str(tmp_path_factory.mktemp("venv") / "v"))


@pytest.mark.parametrize("case", CASES, ids=repr)
def test_files_manifest_and_exit_status(case, venv, tmp_path):
    r = run_case(case, venv, tmp_path / "out", "3")
    assert r.returncode == 3, r.stderr
    folder = run_folder(tmp_path / "out")
    m = manifest(folder)

    assert m["kind"] == case.kind
    assert m["tool"]["name"] == case.tool
    assert m["tool"].get("version"), m["tool"]
    assert m["ended"]["exit_status"] == 3
    arts = artifacts(m)
    for name in case.files + ["summary.txt"]:
        path = os.path.join(folder, name)
        assert os.path.getsize(path) > 0, name
        assert name in arts, name
        assert arts[name]["sha256"] == sha256(path), name
        assert arts[name]["size"] == os.path.getsize(path), name
    steps = {s["name"]: s for s in m["post_processing"]}
    failed = [n for n, s in steps.items() if not s["ok"]]
    assert sorted(failed) == sorted(case.failing_steps), m["post_processing"]
    assert os.path.exists(os.path.join(tmp_path / "out", os.path.basename(folder) + ".tar.zst"))
    assert "Traceback" not in r.stderr


# One case per way the program is run: the scalene-as-memory run is the scalene kind's
# command, the early profiling.sampling build runs the program as the later one does.
DISTINCT = [c for c in CASES if c.id not in ("scalene-as-memory", "profiling.sampling-early")]


@pytest.mark.parametrize("case", DISTINCT, ids=repr)
@pytest.mark.parametrize("how,status", [("sigterm", 143), ("raise", 1)])
def test_exit_status_is_the_programs(case, venv, tmp_path, how, status):
    """py-spy and profiling.sampling always exit 0, viztracer turns SIGTERM into 0:
    sctprof still exits as the program did."""
    r = run_case(case, venv, tmp_path / "out", how)
    assert r.returncode == status, r.stderr
    m = manifest(run_folder(tmp_path / "out"))
    assert m["ended"]["exit_status"] == status
    assert os.path.getsize(os.path.join(run_folder(tmp_path / "out"), "summary.txt")) > 0


@pytest.mark.parametrize("case", [c for c in CASES if c.id != "scalene-as-memory"], ids=repr)
def test_sigint_mid_run_keeps_the_raw_profile(case, venv, tmp_path):
    out = tmp_path / "out"
    argv = sctprof_argv(case, out, interpreter(case, venv), FOREVER)
    proc = subprocess.Popen(argv, env=fakes_env(**case.env), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        wait_for_line(proc, "ready")
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    folder = run_folder(out)
    assert os.path.getsize(os.path.join(folder, RAW[case.tool])) > 0
    assert os.path.getsize(os.path.join(folder, "summary.txt")) > 0
    m = manifest(folder)
    assert m["ended"]["how"] == "stopped"
    assert RAW[case.tool] in artifacts(m)


@pytest.mark.parametrize("case", [c for c in CASES if c.tool in ("py-spy", "profiling.sampling")
                                  and c.id != "profiling.sampling-early"], ids=repr)
def test_killed_program_under_a_sampler(case, venv, tmp_path):
    """py-spy and profiling.sampling exit 0 when the program they sample is SIGKILLed;
    the launcher never recorded an exit, so sctprof reports the kill (137)."""
    r = run_case(case, venv, tmp_path / "out", "sigkill")
    assert r.returncode == 137, r.stderr


def test_tool_arg_reaches_the_tool(venv, tmp_path):
    """py-spy --rate 50: every speedscope sample then weighs 1/50 s."""
    case = CASES[0]
    r = run_case(case, venv, tmp_path / "out", "0", extra=["--tool-arg=--rate=50"])
    assert r.returncode == 0, r.stderr
    with open(os.path.join(run_folder(tmp_path / "out"), "profile.speedscope.json")) as f:
        profiles = json.load(f)["profiles"]
    weights = {w for p in profiles for w in p["weights"]}
    assert weights == {0.02}


@pytest.mark.parametrize("tool,kind,arg", [
    ("py-spy", "sampling", "--output=elsewhere.json"),
    ("py-spy", "sampling", "--duration=5"),
    ("memray", "memory", "-o"),
    ("viztracer", "timeline", "--output_file=result.html"),
    ("scalene", "scalene", "--outfile=x.json"),
])
def test_tool_arg_cannot_move_the_raw_file(venv, tmp_path, tool, kind, arg):
    python = PY if tool == "scalene" else venv
    r = subprocess.run([SCTPROF, "run", "-p", kind, "--tool", tool, "-o", str(tmp_path / "o"),
                        "--tool-arg=" + arg, "--", python, WORK, "0"],
                       env=fakes_env(), capture_output=True, text=True)
    assert r.returncode == 64, r.stderr
    assert "Traceback" not in r.stderr
    lines = [l for l in r.stderr.splitlines() if l.startswith("sctprof:")]
    assert len(lines) == 1 and (arg in lines[0] or arg.split("=")[-1] in lines[0]), r.stderr
    # nothing ran: no run folder is left behind
    assert not os.path.exists(tmp_path / "o") or os.listdir(tmp_path / "o") == []


def test_imports_keep_the_programs_stderr(venv, tmp_path):
    case = [c for c in CASES if c.tool == "importtime"][0]
    r = run_case(case, venv, tmp_path / "out", "0")
    assert r.returncode == 0
    assert "work: stderr line" in r.stderr
    assert "import time:" not in r.stderr
    folder = run_folder(tmp_path / "out")
    with open(os.path.join(folder, "importtime.log")) as f:
        lines = f.read().splitlines()
    assert lines and all(l.startswith("import time:") for l in lines)
    with open(os.path.join(folder, "importtime.json")) as f:
        doc = json.load(f)
    # every line but the column header is an import
    assert doc["count"] == len(lines) - 1
    assert "json" in [i["module"] for i in doc["imports"]]
    with open(os.path.join(folder, "summary.txt")) as f:
        summary = f.read()
    assert "cumulative [us]" in summary and "self [us]" in summary


def test_memray_collects_forked_children(venv, tmp_path):
    case = [c for c in CASES if c.tool == "memray"][0]
    r = run_case(case, venv, tmp_path / "out", "fork", extra=["--subprocesses"])
    assert r.returncode == 0, r.stderr
    folder = run_folder(tmp_path / "out")
    children = [f for f in os.listdir(folder) if f.startswith("memray.bin.")]
    assert len(children) == 1, os.listdir(folder)
    assert children[0] in artifacts(manifest(folder))
    with open(os.path.join(folder, "summary.txt")) as f:
        assert children[0] in f.read()


def test_viztracer_gzip_and_overflow_warning(venv, tmp_path):
    case = [c for c in CASES if c.tool == "viztracer"][0]
    r = run_case(case, venv, tmp_path / "out", "0",
                 extra=["--tool-arg=--output_file=trace.json.gz",
                        "--tool-arg=--tracer_entries=50"])
    assert r.returncode == 0, r.stderr
    folder = run_folder(tmp_path / "out")
    assert not os.path.exists(os.path.join(folder, "trace.json"))
    with gzip.open(os.path.join(folder, "trace.json.gz")) as f:
        doc = json.load(f)
    assert doc["viztracer_metadata"]["overflow"] is True
    m = manifest(folder)
    assert any("overflowed" in w for w in m["warnings"]), m["warnings"]
    assert "overflowed" in r.stderr
    with open(os.path.join(folder, "summary.txt")) as f:
        assert "overflowed" in f.read()


def test_viztracer_without_overflow_warns_nothing(venv, tmp_path):
    case = [c for c in CASES if c.tool == "viztracer"][0]
    r = run_case(case, venv, tmp_path / "out", "0")
    assert r.returncode == 0, r.stderr
    assert manifest(run_folder(tmp_path / "out"))["warnings"] == []


def test_profiling_sampling_subprocesses(tmp_path):
    case = [c for c in CASES if c.id == "profiling.sampling"][0]
    r = run_case(case, None, tmp_path / "out", "child", extra=["--subprocesses"])
    assert r.returncode == 0, r.stderr
    folder = run_folder(tmp_path / "out")
    children = [f for f in os.listdir(folder)
                if f.startswith("profile.") and f.endswith(".stats") and f != "profile.stats"]
    assert children, os.listdir(folder)


def test_early_profiling_sampling_refuses_subprocesses(tmp_path):
    """Early 3.15 alphas have no --subprocesses: found from --help, refused in one line."""
    case = [c for c in CASES if c.id == "profiling.sampling-early"][0]
    r = run_case(case, None, tmp_path / "out", "0", extra=["--subprocesses"])
    assert r.returncode == 64
    assert "--subprocesses" in r.stderr and "Traceback" not in r.stderr


def test_profiling_sampling_needs_python_315(venv, tmp_path):
    r = subprocess.run([SCTPROF, "run", "-p", "sampling", "--tool", "profiling.sampling",
                        "-o", str(tmp_path / "o"), "--", PY, WORK, "0"],
                       env=fakes_env(), capture_output=True, text=True)
    assert r.returncode != 0
    assert "3.15" in r.stderr and "Traceback" not in r.stderr


def test_missing_tool_is_one_line(tmp_path):
    """py-spy not installed (the stand-ins are not on PATH): one line, no traceback."""
    r = subprocess.run([SCTPROF, "run", "-p", "sampling", "--tool", "py-spy", "-o",
                        str(tmp_path / "o"), "--", PY, WORK, "0"],
                       env=clean_env(), capture_output=True, text=True)
    assert r.returncode == 69, r.stderr
    assert "py-spy" in r.stderr and "Traceback" not in r.stderr


@pytest.fixture(scope="module")
def venv_3110(tmp_path_factory):
    """A venv that says it is Python 3.11.0 (pyvenv.cfg, where sctprof reads the version)
    with Debian's scalene installed in it: scalene excludes 3.11.0 (requires-python
    != 3.11.0), and the matrix says so."""
    path = str(tmp_path_factory.mktemp("venv3110") / "v")
    python = make_venv(path)
    cfg = os.path.join(path, "pyvenv.cfg")
    with open(cfg) as f:
        text = f.read()
    with open(cfg, "w") as f:
        f.write("".join("version = 3.11.0\n" if l.startswith("version") else l
                        for l in text.splitlines(True)))
    site = glob.glob(os.path.join(path, "lib", "python3*", "site-packages"))[0]
    for entry in ("memray", "memray-1.20.0.dist-info"):   # memory: scalene only
        os.unlink(os.path.join(site, entry))
    for entry in ("scalene", "scalene-1.5.16.egg-info"):
        os.symlink(os.path.join("/usr/lib/python3/dist-packages", entry),
                   os.path.join(site, entry))
    return python


@pytest.mark.parametrize("kind", ["memory", "scalene"])
def test_unsupported_kind_gives_the_matrix_reason(venv_3110, tmp_path, kind):
    """The only installed tool for the kind (scalene) does not work on the interpreter's
    Python: the compatibility matrix's reason in one line, no tool started, no trace."""
    r = subprocess.run([SCTPROF, "run", "-p", kind, "-o", str(tmp_path / "o"), "--",
                        venv_3110, WORK, "0"], env=clean_env(), capture_output=True,
                       text=True)
    assert r.returncode == 69, r.stderr
    assert "Traceback" not in r.stderr and "Scalene" not in r.stderr
    lines = r.stderr.splitlines()
    assert len(lines) == 1, r.stderr
    assert "scalene excludes Python 3.11.0" in lines[0]
    assert not os.path.exists(tmp_path / "o")
