"""sctprof check and sctprof matrix validate, against fake interpreters: venv-shaped
folders whose pyvenv.cfg names a Python version and whose site-packages hold *.dist-info
folders at chosen versions. Their bin/python is never started (pyvenv.cfg answers the
version), which one test proves with an interpreter that leaves a mark when run."""

import json
import os

import pytest

from conftest import FIXTURES, PY, ROOT, clean_env, run, write

SHIPPED = os.path.join(ROOT, "data", "compat-matrix.yaml")
MATRICES = os.path.join(FIXTURES, "matrix")


def make_venv(where, version, dists=None, programs=(), python=None):
    """A virtualenv-shaped folder: bin/python, pyvenv.cfg saying `version`, a
    *.dist-info per entry of dists ({"py-spy": "0.4.2"}), and stub programs in bin/."""
    where = os.fspath(where)
    major_minor = ".".join(version.split(".")[:2])
    site = os.path.join(where, "lib", "python" + major_minor, "site-packages")
    os.makedirs(site)
    os.makedirs(os.path.join(where, "bin"))
    if python is None:
        os.symlink(PY, os.path.join(where, "bin", "python"))
    else:
        write(os.path.join(where, "bin", "python"), python, 0o755)
    write(os.path.join(where, "pyvenv.cfg"),
          "home = /usr/bin\ninclude-system-site-packages = false\n"
          "version_info = %s\n" % version)
    for name, ver in (dists or {}).items():
        info = os.path.join(site, "%s-%s.dist-info" % (name.replace("-", "_"), ver))
        os.makedirs(info)
        write(os.path.join(info, "METADATA"),
              "Metadata-Version: 2.1\nName: %s\nVersion: %s\nSummary: stand-in\n\n"
              "Name: not-a-header\n" % (name, ver))
    for prog in programs:
        write(os.path.join(where, "bin", prog), "#!/bin/sh\nexit 0\n", 0o755)
    return os.path.join(where, "bin", "python")


def bare_env(tmp_path, **extra):
    """An environment whose PATH holds nothing but an empty folder, so that no program of
    this machine (a py-spy someone installed) changes the answer."""
    empty = tmp_path / "empty-bin"
    empty.mkdir(exist_ok=True)
    env = clean_env(**extra)
    env["PATH"] = str(empty)
    return env


def check_json(args, env, cwd=None, want=None):
    p = run(["check", "--format", "json"] + list(args), env=env, cwd=cwd, check=want)
    data = json.loads(p.stdout)
    assert data["exit"] == p.returncode
    return data, p


def kind(data, name):
    return next(k for k in data["kinds"] if k["kind"] == name)


def tool(data, name):
    return next(t for t in data["tools"] if t["tool"] == name)


# ---- the verdicts the issue asks for ----

def test_py_spy_picked_on_3_13(tmp_path):
    py = make_venv(tmp_path / "v", "3.13.1", {"py-spy": "0.3.14"}, ["py-spy"])
    data, _ = check_json(["--python", py, "-p", "sampling"], bare_env(tmp_path), want=0)
    k = kind(data, "sampling")
    assert (k["tool"], k["status"]) == ("py-spy", "supported")
    t = tool(data, "py-spy")
    assert t["version"] == "0.3.14" and t["installed"] is True
    assert t["executable"] == os.path.join(str(tmp_path), "v", "bin", "py-spy")
    assert data["python"]["version"] == "3.13.1"
    assert data["python"]["version_source"] == "pyvenv.cfg"


def test_py_spy_picked_on_3_14_2_at_0_4_2(tmp_path):
    py = make_venv(tmp_path / "v", "3.14.2", {"py-spy": "0.4.2"}, ["py-spy"])
    data, _ = check_json(["--python", py, "-p", "sampling"], bare_env(tmp_path), want=0)
    k = kind(data, "sampling")
    assert (k["tool"], k["status"], k["passed_over"]) == ("py-spy", "supported", [])
    t = tool(data, "py-spy")
    assert (t["verdict"], t["min_version"], t["range"]) == ("usable", "0.4.2", ">=3.14.0, <3.14.5")


def test_py_spy_refused_on_3_14_2_at_0_4_1(tmp_path):
    py = make_venv(tmp_path / "v", "3.14.2", {"py-spy": "0.4.1"}, ["py-spy"])
    data, p = check_json(["--python", py, "-p", "sampling"], bare_env(tmp_path), want=1)
    t = tool(data, "py-spy")
    assert (t["status"], t["verdict"], t["usable"]) == ("unsupported", "refused", False)
    assert "0.4.1 is older than 0.4.2" in t["reason"]
    assert t["issue"] == "https://github.com/benfred/py-spy/issues/750"
    assert "'py-spy>=0.4.2'" in t["hint"]
    k = kind(data, "sampling")
    assert k["tool"] is None
    assert "py-spy: refused" in k["reason"] and "issues/750" in k["reason"]
    # The text form says the same on the tool's line.
    p = run(["check", "--python", py, "-p", "sampling"], env=bare_env(tmp_path), check=1)
    line = next(l for l in p.stdout.splitlines() if " py-spy " in l)
    assert line.startswith("\u274c") and "0.4.1" in line and "refused" in line
    assert "issues/750" in line


def test_py_spy_warned_on_3_14_6(tmp_path):
    py = make_venv(tmp_path / "v", "3.14.6", {"py-spy": "0.4.2"}, ["py-spy"])
    data, _ = check_json(["--python", py, "-p", "sampling"], bare_env(tmp_path), want=0)
    k = kind(data, "sampling")
    assert (k["tool"], k["status"]) == ("py-spy", "untested")
    t = tool(data, "py-spy")
    assert t["issue"] == "https://github.com/benfred/py-spy/issues/852"
    assert "falls behind" in t["reason"]
    # --strict: only an untested tool is usable.
    check_json(["--python", py, "-p", "sampling", "--strict"], bare_env(tmp_path), want=2)


def test_sampling_falls_back_when_py_spy_is_missing(tmp_path):
    py = make_venv(tmp_path / "v", "3.14.2", {"scalene": "2.1.4"}, ["scalene"])
    data, _ = check_json(["--python", py, "-p", "sampling"], bare_env(tmp_path), want=0)
    k = kind(data, "sampling")
    assert (k["tool"], k["mode"]) == ("scalene", "cpu-only")
    passed = {x["tool"]: x["reason"] for x in k["passed_over"]}
    assert passed["py-spy"] == "not installed"
    assert passed["profiling.sampling"].startswith("refused: added in Python 3.15")
    t = tool(data, "py-spy")
    assert t["verdict"] == "not-installed" and "py-spy>=0.4.2" in t["hint"]


def test_scalene_too_old_for_3_14_is_not_picked(tmp_path):
    py = make_venv(tmp_path / "v", "3.14.2", {"scalene": "1.5.55"}, ["scalene"])
    data, _ = check_json(["--python", py, "-p", "scalene"], bare_env(tmp_path), want=1)
    assert "1.5.55 is older than 2.1.4" in tool(data, "scalene")["reason"]


def test_memory_refused_on_win32(tmp_path):
    py = make_venv(tmp_path / "v", "3.13.1", {"memray": "1.19.0"}, ["memray"])
    check_json(["--python", py, "-p", "memory"], bare_env(tmp_path), want=0)
    data, _ = check_json(["--python", py, "-p", "memory", "--platform", "win32"],
                         bare_env(tmp_path), want=1)
    t = tool(data, "memray")
    assert t["status"] == "unsupported"
    assert "win32" in t["reason"] and "linux, darwin" in t["reason"]
    assert "memray" in kind(data, "memory")["reason"]
    assert data["platform"] == "win32"


def test_exit_without_profile_needs_every_kind(tmp_path):
    py = make_venv(tmp_path / "v", "3.13.1",
                   {"py-spy": "0.4.2", "memray": "1.19.0", "viztracer": "1.1.1",
                    "scalene": "2.1.4"}, ["py-spy", "memray", "viztracer", "scalene"])
    data, _ = check_json(["--python", py], bare_env(tmp_path), want=0)
    assert all(k["tool"] for k in data["kinds"])
    os.unlink(os.path.join(str(tmp_path), "v", "bin", "viztracer"))
    os.system("rm -rf '%s'" % os.path.join(str(tmp_path), "v", "lib", "python3.13",
                                          "site-packages", "viztracer-1.1.1.dist-info"))
    data, _ = check_json(["--python", py], bare_env(tmp_path), want=1)
    assert kind(data, "timeline")["tool"] is None
    # ... but a kind that has one is enough when it is the one asked for.
    check_json(["--python", py, "-p", "memory"], bare_env(tmp_path), want=0)


def test_a_python_level_tool_on_path_is_not_the_interpreters(tmp_path):
    """scalene on PATH belongs to another interpreter: without its dist-info in this
    venv it is not installed here; py-spy, a native program, counts wherever it is."""
    py = make_venv(tmp_path / "v", "3.13.1")
    other = tmp_path / "other-bin"
    other.mkdir()
    for prog in ("scalene", "py-spy"):
        write(other / prog, "#!/bin/sh\nexit 0\n", 0o755)
    env = clean_env()
    env["PATH"] = str(other)
    data, _ = check_json(["--python", py], env)
    assert tool(data, "scalene")["installed"] is False
    spy = tool(data, "py-spy")
    assert spy["installed"] is True and spy["version"] is None
    assert spy["executable"] == str(other / "py-spy")


# ---- markdown ----

SCT_TABLE_3_14 = """\
| Tool | Python 3.14 | Notes |
|---|---|---|
| cProfile (stdlib) | \u2705 | part of Python |
| scalene | \u2705 | officially supports 3.14 |
| viztracer | \u2705 | supports 3.14 since 1.1.0 |
| memray | \u2705 | Linux and macOS only |
| py-spy | \u2705 3.14.0\u20133.14.4, \u26a0\ufe0f 3.14.5+ | 3.14.0\u20133.14.4: 3.14 supported since 0.4.2 \
(tracking https://github.com/benfred/py-spy/issues/750); 3.14.5+: thread names are not read on \
3.14.5 and later, and sampling falls behind (tracking https://github.com/benfred/py-spy/issues/852) |
| snakeviz | \u26a0\ufe0f | viewer; no explicit 3.14 classifiers |
| gprof2dot | \u26a0\ufe0f | viewer; minimally maintained |
"""


def test_markdown_for_3_14_is_scts_table(tmp_path):
    p = run(["check", "--python-version", "3.14", "--format", "markdown"],
            env=bare_env(tmp_path), check=0)
    assert p.stdout == SCT_TABLE_3_14


def test_markdown_for_an_exact_version_shows_one_row_per_tool(tmp_path):
    p = run(["check", "--python-version", "3.14.6", "--format", "markdown"],
            env=bare_env(tmp_path), check=0)
    spy = next(l for l in p.stdout.splitlines() if l.startswith("| py-spy |"))
    assert spy == ("| py-spy | \u26a0\ufe0f | thread names are not read on 3.14.5 and later, and "
                   "sampling falls behind (tracking https://github.com/benfred/py-spy/issues/852) |")


# ---- the matrix: errors, override ----

@pytest.mark.parametrize("name,where,text", [
    ("unknown-key.yaml", "8:9", "unknown key 'statuss'"),
    ("duplicate-key.yaml", "6:5", "duplicate key 'role'"),
    ("bad-status.yaml", "8:17", "bad status 'works'"),
    ("bad-range.yaml", "7:25", "bad range"),
    ("unknown-tool.yaml", "10:24", "unknown tool 'pyspy'"),
])
def test_matrix_validate_names_line_and_column(tmp_path, name, where, text):
    path = os.path.join(MATRICES, name)
    p = run(["matrix", "validate", path], env=bare_env(tmp_path), check=65)
    assert p.stderr.startswith("sctprof: matrix '%s':%s: " % (path, where))
    assert text in p.stderr
    assert len(p.stderr.splitlines()) == 1
    assert p.stdout == ""


def test_check_refuses_a_malformed_matrix(tmp_path):
    path = os.path.join(MATRICES, "unknown-key.yaml")
    p = run(["check", "--python-version", "3.14", "--matrix", path], env=bare_env(tmp_path),
            check=65)
    assert "unknown-key.yaml':8:9: unknown key 'statuss'" in p.stderr
    p = run(["check", "--python-version", "3.14"], env=bare_env(tmp_path, SCTPROF_MATRIX=path),
            check=65)
    assert "unknown-key.yaml':8:9:" in p.stderr


def test_matrix_validate_shipped_and_override(tmp_path):
    p = run(["matrix", "validate"], env=bare_env(tmp_path), check=0)
    assert p.stdout == "%s: ok (9 tools, 6 kinds)\n" % SHIPPED
    valid = os.path.join(MATRICES, "valid.yaml")
    p = run(["matrix", "validate"], env=bare_env(tmp_path, SCTPROF_MATRIX=valid), check=0)
    assert p.stdout == "%s: ok (4 tools, 3 kinds)\n" % valid
    run(["matrix", "validate", str(tmp_path / "nope.yaml")], env=bare_env(tmp_path), check=66)
    data, _ = check_json(["--python-version", "3.13", "--matrix", valid], bare_env(tmp_path))
    assert data["matrix"] == valid
    assert [t["tool"] for t in data["tools"]] == ["cprofile", "py-spy", "memray", "snakeviz"]


def test_bad_input_exit_codes(tmp_path):
    env = bare_env(tmp_path)
    assert run(["check", "--python-version", "three"], env=env).returncode == 64
    assert run(["check", "--python-version", "3.14", "-p", "nope"], env=env).returncode == 64
    assert run(["check", "--platform", "beos"], env=env).returncode == 64
    assert run(["check", "--format", "yaml"], env=env).returncode == 64
    assert run(["check", "--python", "/usr/bin/python3", "--python-version", "3.14"],
               env=env).returncode == 64
    p = run(["check", "--python", str(tmp_path / "no-python")], env=env, check=66)
    assert "no-python" in p.stderr and len(p.stderr.splitlines()) == 1
    run(["check", "--python-version", "3.14", "--matrix", str(tmp_path / "none.yaml")],
        env=env, check=66)


# ---- finding the interpreter ----

def test_pyvenv_cfg_answers_without_starting_python(tmp_path):
    mark = tmp_path / "started"
    py = make_venv(tmp_path / "v", "3.14.2", python="#!/bin/sh\ntouch '%s'\nexit 3\n" % mark)
    data, _ = check_json(["--python", py], bare_env(tmp_path))
    assert data["python"]["version"] == "3.14.2"
    assert not mark.exists()


def test_an_interpreter_without_pyvenv_cfg_is_asked_once(tmp_path):
    bindir = tmp_path / "prefix" / "bin"
    bindir.mkdir(parents=True)
    count = tmp_path / "count"
    py = write(bindir / "python3", "#!/bin/sh\necho x >> '%s'\necho 'Python 3.12.4'\n" % count, 0o755)
    data, _ = check_json(["--python", py], bare_env(tmp_path))
    assert (data["python"]["version"], data["python"]["version_source"]) == ("3.12.4", "interpreter")
    assert count.read_text() == "x\n"


def test_not_a_python(tmp_path):
    fake = write(tmp_path / "python3", "#!/bin/sh\necho hello\n", 0o755)
    p = run(["check", "--python", fake], env=bare_env(tmp_path), check=64)
    assert "printed no Python version" in p.stderr


def test_search_order_and_origins(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    env = bare_env(tmp_path)
    # .venv
    make_venv(work / ".venv", "3.13.1")
    data, _ = check_json([], env, cwd=work)
    assert data["python"]["origin"] == ".venv"
    assert data["python"]["venv"] == str(work / ".venv")
    # .venv-sct-$(cat .python-version) comes before .venv
    write(work / ".python-version", "3.14\n")
    make_venv(work / ".venv-sct-3.14", "3.14.2")
    data, _ = check_json([], env, cwd=work)
    assert data["python"]["origin"] == ".venv-sct-3.14"
    assert data["python"]["version"] == "3.14.2"
    # $UV_PROJECT_ENVIRONMENT before that
    uvpy = make_venv(tmp_path / "uvenv", "3.14.6")
    env_uv = dict(env, UV_PROJECT_ENVIRONMENT=str(tmp_path / "uvenv"))
    data, _ = check_json([], env_uv, cwd=work)
    assert data["python"]["origin"] == "$UV_PROJECT_ENVIRONMENT"
    assert data["python"]["path"] == uvpy
    # $VIRTUAL_ENV before that
    make_venv(tmp_path / "active", "3.14.2")
    env_ve = dict(env_uv, VIRTUAL_ENV=str(tmp_path / "active"))
    data, _ = check_json([], env_ve, cwd=work)
    assert data["python"]["origin"] == "$VIRTUAL_ENV"
    steps = [s["step"] for s in data["python"]["search"]]
    assert steps == ["--python", "command", "$VIRTUAL_ENV"]
    # the command's interpreter before that, and --python first of all
    data, _ = check_json(["--", uvpy, "-c", "pass"], env_ve, cwd=work)
    assert data["python"]["path"] == uvpy
    assert "the command names" in data["python"]["origin"]
    data, _ = check_json(["--python", uvpy], env_ve, cwd=work)
    assert data["python"]["origin"] == "--python"
    # -v prints the search in text
    p = run(["-v", "check", "-p", "cprofile"], env=env_ve, cwd=work, check=0)
    assert "search: $VIRTUAL_ENV: '%s/bin/python'" % (tmp_path / "active") in p.stdout
    assert "version: 3.14.2 from pyvenv.cfg" in p.stdout


def test_python3_on_path_skips_pyenv_shims(tmp_path):
    shims = tmp_path / ".pyenv" / "shims"
    shims.mkdir(parents=True)
    write(shims / "python3", "#!/bin/sh\nexit 1\n", 0o755)
    env = clean_env()
    env["PATH"] = "%s:/usr/bin:/bin" % shims
    env.pop("PYENV_ROOT", None)
    data, _ = check_json(["-p", "cprofile"], env, cwd=tmp_path, want=0)
    assert data["python"]["path"] == "/usr/bin/python3"
    assert "pyenv shim '%s' skipped" % (shims / "python3") in data["python"]["origin"]
    f = next(f for f in data["findings"] if f["code"] == "pyenv-shims")
    assert str(shims / "python3") in f["message"] and ".envrc" in f["hint"]


def test_python_version_file_mismatch(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    write(work / ".python-version", "3.14\n")
    make_venv(tmp_path / "venv", "3.13.1")
    env = bare_env(tmp_path, VIRTUAL_ENV=str(tmp_path / "venv"))
    data, _ = check_json(["-p", "cprofile"], env, cwd=work, want=0)
    f = next(f for f in data["findings"] if f["code"] == "python-version-mismatch")
    assert "3.14" in f["message"] and "3.13.1" in f["message"] and "uv" in f["hint"]
    write(work / ".python-version", "3.13\n")
    data, _ = check_json(["-p", "cprofile"], env, cwd=work, want=0)
    assert not [f for f in data["findings"] if f["code"] == "python-version-mismatch"]


def test_install_hint_in_a_uv_project_with_a_profiling_group(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    write(work / "pyproject.toml", "[project]\nname = 'x'\n\n[dependency-groups]\n"
          "profiling = [\"py-spy>=0.4.2\", \"memray\"]\n")
    py = make_venv(work / ".venv", "3.14.2")
    data, _ = check_json(["--python", py, "-p", "sampling"], bare_env(tmp_path), cwd=work, want=1)
    assert tool(data, "py-spy")["hint"] == "uv sync --group profiling"
    data, _ = check_json(["--python", py, "-p", "sampling"], bare_env(tmp_path), cwd=tmp_path, want=1)
    assert tool(data, "py-spy")["hint"] == "uv pip install --python %s 'py-spy>=0.4.2'" % py


@pytest.mark.skipif(not any(n.startswith("scalene-") for n in
                            os.listdir("/usr/lib/python3/dist-packages")),
                    reason="Debian's python3-scalene is not installed")
def test_system_interpreter_sees_debian_dist_packages(tmp_path):
    data, _ = check_json(["--python", PY, "-p", "scalene"], bare_env(tmp_path), want=0)
    assert "/usr/lib/python3/dist-packages" in data["python"]["site_packages"]
    t = tool(data, "scalene")
    assert t["installed"] is True and t["version"].startswith("1.5")


def test_text_output_shape(tmp_path):
    py = make_venv(tmp_path / "v", "3.14.2", {"py-spy": "0.4.2"}, ["py-spy"])
    p = run(["check", "--python", py], env=bare_env(tmp_path))
    lines = p.stdout.splitlines()
    assert lines[0] == "Python 3.14.2 at %s (--python), linux" % py
    tools = [l.split()[1] for l in lines[2:11]]
    assert tools == ["cprofile", "scalene", "viztracer", "memray", "py-spy", "snakeviz",
                     "gprof2dot", "profiling.sampling", "importtime"]
    assert "kinds:" in lines
    sampling = next(l for l in lines if l.strip().startswith("sampling"))
    assert "py-spy" in sampling
    timeline = next(l for l in lines if l.strip().startswith("timeline"))
    assert "none: " in timeline and "'viztracer>=1.1.0'" in timeline


def test_json_schema_fields(tmp_path):
    data, _ = check_json(["--python-version", "3.15.0"], bare_env(tmp_path))
    assert data["format"] == "sctprof-check/1"
    assert set(data) == {"format", "matrix", "platform", "python", "tools", "kinds",
                         "findings", "exit"}
    assert set(data["python"]) == {"path", "origin", "version", "version_source", "venv",
                                   "site_packages", "search"}
    for t in data["tools"]:
        assert set(t) >= {"tool", "title", "role", "status", "symbol", "installed", "version",
                          "executable", "usable", "verdict", "range", "reason", "hint", "note",
                          "issue", "min_version"}
        assert t["installed"] is None
    assert kind(data, "sampling")["tool"] == "profiling.sampling"
    assert tool(data, "py-spy")["status"] == "unsupported"


def test_a_pyenv_shim_is_resolved_as_pyenv_would(tmp_path):
    root = tmp_path / ".pyenv"
    (root / "shims").mkdir(parents=True)
    shim = write(root / "shims" / "python3", "#!/bin/sh\nexit 1\n", 0o755)
    for v in ("3.13.1", "3.12.4"):
        (root / "versions" / v / "bin").mkdir(parents=True)
        write(root / "versions" / v / "bin" / "python3", "#!/bin/sh\necho 'Python %s'\n" % v, 0o755)
    write(root / "version", "3.13.1\n")
    env = bare_env(tmp_path, PYENV_ROOT=str(root))
    data, _ = check_json(["--python", shim, "-p", "cprofile"], env, cwd=tmp_path, want=0)
    assert data["python"]["path"] == str(root / "versions" / "3.13.1" / "bin" / "python3")
    assert data["python"]["version"] == "3.13.1"
    f = next(f for f in data["findings"] if f["code"] == "pyenv-shim")
    assert shim in f["message"] and "3.13.1" in f["message"]
    data, _ = check_json(["--python", shim], dict(env, PYENV_VERSION="3.12.4"), cwd=tmp_path)
    assert data["python"]["version"] == "3.12.4"
    write(tmp_path / ".python-version", "3.12.4\n")
    data, _ = check_json(["--python", shim], env, cwd=tmp_path)
    assert data["python"]["version"] == "3.12.4"
