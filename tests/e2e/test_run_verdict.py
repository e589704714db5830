"""sctprof run and the compatibility matrix: the tool is the matrix's pick, an unsupported
verdict is refused (exit 69) unless --force, an untested one warns once, and the verdict
goes into manifest.json. Only the cprofile backend is certain to be built, so the
matrices here are written by the tests to put cprofile in each situation."""

import glob
import json
import os

from conftest import PY, clean_env, run, write

PROGRAM = "import sys\nprint('ran')\nsys.exit(3)\n"


def matrix(path, rows, kinds="  cprofile: [cprofile]\n"):
    return write(path, "schema: 1\ntools:\n"
                 "  cprofile:\n    role: profiler\n    detect: {stdlib: cProfile}\n"
                 "    python:\n" + rows +
                 "  py-spy:\n    role: profiler\n    detect: {executable: py-spy}\n"
                 "    python:\n      - {range: '*', status: supported}\n"
                 "kinds:\n" + kinds)


def manifest(outdir):
    found = [f for f in glob.glob(os.path.join(str(outdir), "*", "manifest.json"))
             if not f.startswith(os.path.join(str(outdir), "latest"))]
    assert len(found) == 1, found
    with open(found[0]) as f:
        return json.load(f)


def sctprof_run(tmp_path, args, check=None):
    write(tmp_path / "t.py", PROGRAM)
    return run(["run", "--no-archive", "-o", str(tmp_path / "out")] + args +
               ["--", PY, str(tmp_path / "t.py")], cwd=tmp_path, env=clean_env(), check=check)


def test_shipped_matrix_verdict_in_manifest(tmp_path):
    p = sctprof_run(tmp_path, [], check=3)
    assert "ran" in p.stdout
    m = manifest(tmp_path / "out")
    v = m["verdict"]
    assert (v["tool"], v["kind"], v["status"], v["verdict"]) == \
        ("cprofile", "cprofile", "supported", "usable")
    assert v["python"] == PY and v["python_version"] == m["python"]["version"]
    assert v["forced"] is False
    assert "warning" not in p.stderr


def test_unsupported_is_refused_with_reason_and_issue(tmp_path):
    mx = matrix(tmp_path / "m.yaml", "      - range: '*'\n        status: unsupported\n"
                "        note: broken here\n        issue: https://example.org/issues/1\n")
    p = sctprof_run(tmp_path, ["--matrix", mx], check=69)
    assert "ran" not in p.stdout
    line = p.stderr.strip()
    assert len(line.splitlines()) == 1
    assert "broken here" in line and "https://example.org/issues/1" in line
    assert "--force" in line
    assert not os.path.exists(tmp_path / "out")


def test_force_runs_a_refused_tool_and_records_it(tmp_path):
    mx = matrix(tmp_path / "m.yaml", "      - range: '*'\n        status: unsupported\n"
                "        note: broken here\n        issue: https://example.org/issues/1\n")
    p = sctprof_run(tmp_path, ["--matrix", mx, "--force"], check=3)
    assert "ran" in p.stdout
    warnings = [l for l in p.stderr.splitlines() if "warning:" in l]
    assert len(warnings) == 1 and "--force" in warnings[0] and "issues/1" in warnings[0]
    v = manifest(tmp_path / "out")["verdict"]
    assert (v["status"], v["forced"], v["issue"]) == ("unsupported", True, "https://example.org/issues/1")


def test_untested_warns_once_and_runs(tmp_path):
    mx = matrix(tmp_path / "m.yaml", "      - {range: '*', status: untested, note: nobody tried}\n")
    p = sctprof_run(tmp_path, ["--matrix", mx], check=3)
    warnings = [l for l in p.stderr.splitlines() if "warning:" in l]
    assert warnings == ["sctprof: warning: cprofile is untested on Python %s: nobody tried"
                        % manifest(tmp_path / "out")["python"]["version"]]
    assert manifest(tmp_path / "out")["verdict"]["status"] == "untested"


def test_a_tool_without_backend_is_passed_over(tmp_path):
    mx = matrix(tmp_path / "m.yaml", "      - {range: '*', status: supported}\n",
                kinds="  cprofile: [py-spy, cprofile]\n")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    write(bindir / "py-spy", "#!/bin/sh\nexit 0\n", 0o755)
    write(tmp_path / "t.py", PROGRAM)
    env = clean_env()
    env["PATH"] = "%s:%s" % (bindir, env["PATH"])
    run(["run", "--no-archive", "-o", str(tmp_path / "out"), "--matrix", mx, "--",
         PY, str(tmp_path / "t.py")], cwd=tmp_path, env=env, check=3)
    v = manifest(tmp_path / "out")["verdict"]
    assert v["tool"] == "cprofile"
    assert v["passed_over"] == [{"tool": "py-spy", "reason": "no backend in this build"}]


def test_tool_implies_its_kind(tmp_path):
    sctprof_run(tmp_path, ["--tool", "cprofile"], check=3)
    m = manifest(tmp_path / "out")
    assert m["kind"] == "cprofile" and m["verdict"]["forced"] is True


def test_bad_kind_tool_and_matrix(tmp_path):
    p = sctprof_run(tmp_path, ["-p", "nope"], check=64)
    assert "unknown kind 'nope'" in p.stderr
    p = sctprof_run(tmp_path, ["--tool", "nope"], check=64)
    assert "unknown tool 'nope'" in p.stderr
    p = sctprof_run(tmp_path, ["-p", "memory", "--tool", "cprofile"], check=64)
    assert "not a tool of kind 'memory'" in p.stderr
    bad = write(tmp_path / "bad.yaml", "schema: 1\ntools: {}\nkinds: {}\n")
    p = sctprof_run(tmp_path, ["--matrix", bad], check=65)
    assert "bad.yaml':2:8: 'tools' is empty" in p.stderr
    sctprof_run(tmp_path, ["--matrix", str(tmp_path / "none.yaml")], check=66)
    assert not os.path.exists(tmp_path / "out")


def test_no_usable_tool_for_the_kind_exits_69(tmp_path):
    # Nothing in the shipped matrix's timeline list is installed for /usr/bin/python3
    # here, or it has no backend in this build: either way exit 69 with the reason.
    p = sctprof_run(tmp_path, ["-p", "timeline"], check=69)
    assert "viztracer" in p.stderr and len(p.stderr.strip().splitlines()) == 1
