"""sctprof report: every number it gives for real cProfile output equals what Python's
pstats computes from the same file (the oracle), for five kinds of program; bundles,
run folders, memray, scalene and importtime inputs; the picture; and corrupt input."""

import io
import json
import marshal
import os
import pstats
import shutil
import subprocess
import tarfile
import xml.etree.ElementTree as ET
import zipfile

import pytest

from conftest import FIXTURES, PY, ROOT, clean_env, run

REPORT = os.path.join(FIXTURES, "report")
LAUNCHER = os.path.join(ROOT, "plugins", "cprofile", "launcher.py")


def cprofile(out, *args, cwd=None):
    subprocess.run([PY, "-m", "cProfile", "-o", out] + list(args), check=True,
                   cwd=cwd, env=clean_env(), capture_output=True)
    return out


@pytest.fixture(scope="module")
def profiles(tmp_path_factory):
    d = tmp_path_factory.mktemp("profiles")
    p = {}
    p["mixed"] = cprofile(str(d / "mixed.stats"), os.path.join(REPORT, "mixed.py"))
    p["recursive"] = cprofile(str(d / "recursive.stats"), os.path.join(REPORT, "recursive.py"))
    shutil.copy(os.path.join(REPORT, "test_tiny.py"), d / "test_tiny.py")
    p["pytest"] = cprofile(str(d / "pytest.stats"), "-m", "pytest", "-q", "-p",
                           "no:cacheprovider", "test_tiny.py", cwd=str(d))
    (d / "empty.py").write_text("x = 1\n")
    p["empty"] = cprofile(str(d / "empty.stats"), str(d / "empty.py"))
    # threads through sctprof's own launcher: per-thread profiles merged by pstats.add
    subprocess.run([PY, LAUNCHER, "--output=%s" % (d / "threads.stats"), "--threads=all", "--",
                    os.path.join(REPORT, "threads.py")], check=True, env=clean_env(),
                   capture_output=True)
    p["threads"] = str(d / "threads.stats")
    return p


def report_json(path, *extra):
    r = run(["report", "--format", "json", "--top", "0"] + list(extra) + [path], check=0)
    return json.loads(r.stdout)


def label(func):
    return pstats.func_std_string(func)


@pytest.mark.parametrize("name", ["mixed", "recursive", "pytest", "empty", "threads"])
@pytest.mark.parametrize("sort", ["cumulative", "tottime", "calls"])
def test_numbers_equal_pstats(profiles, name, sort):
    path = profiles[name]
    st = pstats.Stats(path)
    st.sort_stats(sort)
    got = report_json(path, "--sort", sort)
    prof = got["profiles"][0]
    assert prof["type"] == "cprofile"
    assert prof["total_calls"] == st.total_calls
    assert prof["primitive_calls"] == st.prim_calls
    assert prof["total_time"] == st.total_tt
    assert prof["functions_total"] == len(st.stats)
    # the same functions, in the order pstats sorts them (ties in file order)
    assert [f["name"] for f in prof["functions"]] == [label(f) for f in st.fcn_list]
    for row, func in zip(prof["functions"], st.fcn_list):
        cc, nc, tt, ct, _ = st.stats[func]
        assert (row["file"], row["line"], row["function"]) == func
        assert row["ncalls"] == nc and row["primitive_calls"] == cc
        assert row["tottime"] == tt and row["cumtime"] == ct
        assert row["tottime_per_call"] == (tt / nc if nc else None)
        assert row["cumtime_per_call"] == (ct / cc if cc else None)


def test_recursion_is_visible(profiles):
    prof = report_json(profiles["recursive"])["profiles"][0]
    rows = {r["function"]: r for r in prof["functions"] if r["file"].endswith("recursive.py")}
    assert rows["fib"]["ncalls"] > rows["fib"]["primitive_calls"] == 1
    assert rows["even"]["ncalls"] > rows["even"]["primitive_calls"]


@pytest.mark.parametrize("version", [0, 1, 2, 3, 4])
def test_every_marshal_version(profiles, tmp_path, version):
    stats = pstats.Stats(profiles["recursive"]).stats
    out = tmp_path / ("v%d.stats" % version)
    with open(out, "wb") as f:
        marshal.dump(stats, f, version)
    want = report_json(profiles["recursive"])["profiles"][0]
    got = report_json(str(out))["profiles"][0]
    assert got["functions"] == want["functions"]
    assert got["total_time"] == want["total_time"]


def test_text_matches_pstats_table(profiles):
    path = profiles["recursive"]
    buf = io.StringIO()
    pstats.Stats(path, stream=buf).sort_stats("cumulative").print_stats(15)
    want = [l for l in buf.getvalue().splitlines()
            if l[:9].strip() and l.strip()[0].isdigit() and "function calls" not in l]
    out = run(["report", "--top", "15", path], check=0).stdout
    assert "function calls" in out
    got = [l for l in out.splitlines() if l[:9].strip() and l.strip()[0].isdigit()
           and "function calls" not in l]
    assert got == want


def test_filter_and_top(profiles):
    prof = report_json(profiles["recursive"], "--filter", r"\((even|odd)\)$")["profiles"][0]
    assert sorted(r["function"] for r in prof["functions"]) == ["even", "odd"]
    prof = report_json(profiles["mixed"])["profiles"][0]
    r = run(["report", "--format", "json", "--top", "3", profiles["mixed"]], check=0)
    assert len(json.loads(r.stdout)["profiles"][0]["functions"]) == 3


def test_markdown(profiles):
    out = run(["report", "--format", "markdown", "--top", "5", profiles["recursive"]], check=0).stdout
    assert out.startswith("### sctprof report")
    assert "| ncalls | tottime | percall | cumtime | percall | function |" in out
    assert "`" in out and out.count("\n|") >= 7


def test_no_sandbox_same_output(profiles):
    a = run(["report", profiles["mixed"]], check=0).stdout
    b = run(["report", "--no-sandbox", profiles["mixed"]], check=0).stdout
    assert a == b


def svg_frames(text):
    root = ET.fromstring(text)
    ns = "{http://www.w3.org/2000/svg}"
    return [(g.find(ns + "title").text, float(g.find(ns + "rect").get("width")),
             float(g.find(ns + "rect").get("y"))) for g in root.iter(ns + "g")]


def test_svg_icicle(profiles):
    a = run(["report", "--format", "svg", profiles["recursive"]], check=0).stdout
    b = run(["report", "--format", "svg", profiles["recursive"]], check=0).stdout
    assert a == b  # deterministic
    frames = svg_frames(a)
    assert len(frames) > 5
    titles = [t for t, _, _ in frames]
    assert any(t.startswith(os.path.join(REPORT, "recursive.py") + ":") and "(fib)" in t
               for t in titles)
    # callers above callees: main() sits above fib(), and only one fib frame per path
    main_y = min(y for t, _, y in frames if "(main)" in t)
    fib_y = min(y for t, _, y in frames if "(fib)" in t)
    assert main_y < fib_y
    assert all("cumtime" in t and "calls" in t for t in titles)


def test_svg_needs_cprofile(tmp_path):
    r = run(["report", "--format", "svg", os.path.join(REPORT, "memray-stats.json")])
    assert r.returncode == 65 and "no cProfile data" in r.stderr


# ---- run folders and bundles ----

MANIFEST = {
    "sctprof_version": "0.1.0", "run_id": "20261127T101500Z-cprofile-1a2b3c4d",
    "kind": "cprofile", "tool": {"name": "cprofile", "version": "3.11.2"},
    "python": {"path": "/usr/bin/python3", "version": "3.11.2"},
    "duration_seconds": 12.5, "ended": {"how": "exited", "exit_status": 3},
}


@pytest.fixture
def run_folder(profiles, tmp_path):
    d = tmp_path / MANIFEST["run_id"]
    d.mkdir()
    (d / "manifest.json").write_text(json.dumps(MANIFEST))
    shutil.copy(profiles["recursive"], d / "profile.stats")
    shutil.copy(os.path.join(REPORT, "memray-stats.json"), d / "memray-stats.json")
    (d / "summary.txt").write_text("not read\n")
    return d


def test_run_folder(run_folder):
    out = run(["report", str(run_folder)], check=0).stdout
    for want in ["20261127T101500Z-cprofile-1a2b3c4d", "cprofile 3.11.2", "3.11.2",
                 "12.500 s", "profile.stats (cProfile)", "memray-stats.json (memray)",
                 "Peak memory:        150.0 MiB"]:
        assert want in out
    assert "exit" in out and " 3" in out


def bundle(folder, fmt):
    base = str(folder) + {"tar.gz": ".tar.gz", "zip": ".zip", "tar.zst": ".tar.zst"}[fmt]
    name = os.path.basename(str(folder))
    if fmt == "tar.gz":
        with tarfile.open(base, "w:gz") as t:
            t.add(str(folder), arcname=name)
    elif fmt == "zip":
        with zipfile.ZipFile(base, "w") as z:
            for f in sorted(os.listdir(str(folder))):
                z.write(os.path.join(str(folder), f), name + "/" + f)
    else:
        tar = base[:-4]
        with tarfile.open(tar, "w") as t:
            t.add(str(folder), arcname=name)
        subprocess.run(["zstd", "-q", "--rm", "-f", tar, "-o", base], check=True)
    return base


@pytest.mark.parametrize("fmt", ["tar.gz", "zip", "tar.zst"])
def test_bundles(run_folder, fmt):
    path = bundle(run_folder, fmt)
    got = report_json(path)
    assert got["source_kind"] == "bundle"
    assert got["manifest"]["run_id"] == MANIFEST["run_id"]
    assert [p["type"] for p in got["profiles"]] == ["memray", "cprofile"]
    mem = got["profiles"][0]
    assert mem["peak_memory"] == 157286400 and mem["total_allocations"] == 20481
    folder = report_json(str(run_folder))
    assert got["profiles"] == folder["profiles"]


def test_manifest_with_missing_fields(profiles, tmp_path):
    d = tmp_path / "run"
    d.mkdir()
    (d / "manifest.json").write_text('{"kind": "cprofile"}')
    shutil.copy(profiles["empty"], d / "profile.stats")
    r = run(["report", str(d)], check=0)
    assert "cprofile" in r.stdout


def test_memray_markdown():
    out = run(["report", "--format", "markdown", os.path.join(REPORT, "memray-stats.json")],
              check=0).stdout
    assert "**peak memory: 150.0 MiB**" in out
    assert "`load_config:/home/u/scylla-cluster-tests/sdcm/sct_config.py:1732`" in out


def test_importtime(tmp_path):
    p = subprocess.run([PY, "-X", "importtime", "-c", "import json, email.message"],
                       capture_output=True, text=True, env=clean_env())
    log = tmp_path / "importtime.log"
    log.write_text(p.stderr)
    got = report_json(str(log))["profiles"][0]
    assert got["type"] == "importtime"
    lines = [l for l in p.stderr.splitlines() if l.startswith("import time:") and "self [us]" not in l]
    assert got["imports_total"] == len(lines)
    assert got["total_us"] == sum(int(l.split("|")[0].split(":")[1]) for l in lines)
    cums = [i["cumulative_us"] for i in got["imports"]]
    assert cums == sorted(cums, reverse=True)
    top = max(lines, key=lambda l: int(l.split("|")[1]))
    assert got["imports"][0]["module"] == top.split("|")[2].strip()


def test_scalene(tmp_path):
    import importlib.util
    if importlib.util.find_spec("scalene") is None:
        pytest.skip("scalene is not installed for /usr/bin/python3")
    out = tmp_path / "scalene.json"
    p = subprocess.run([PY, "-m", "scalene", "--cli", "--json", "--outfile", str(out),
                        os.path.join(REPORT, "threads.py")], capture_output=True, env=clean_env(),
                       cwd=str(tmp_path), timeout=300)
    if p.returncode != 0 or not out.exists():
        pytest.skip("scalene could not profile here: %s" % p.stderr[-200:])
    data = json.loads(out.read_text())
    got = report_json(str(out))["profiles"][0]
    assert got["type"] == "scalene"
    # scalene writes {} when the program ends before its first sample
    assert got["elapsed_time"] == data.get("elapsed_time_sec")
    assert got["max_footprint_mb"] == data.get("max_footprint_mb")
    rows = [f for fd in data.get("files", {}).values() for f in fd["functions"]]
    assert len(got["functions"]) == len(rows)
    cpu = [r["cpu_percent"] for r in got["functions"]]
    assert cpu == sorted(cpu, reverse=True)


def test_scalene_fixture(tmp_path):
    data = {"elapsed_time_sec": 2.5, "max_footprint_mb": 64.0, "max_footprint_fname": "w.py",
            "max_footprint_lineno": 4, "files": {"w.py": {"functions": [
                {"line": "alloc", "lineno": 2, "n_cpu_percent_python": 10.0,
                 "n_cpu_percent_c": 1.0, "n_sys_percent": 0.5, "n_peak_mb": 60.0,
                 "n_malloc_mb": 120.0},
                {"line": "spin", "lineno": 5, "n_cpu_percent_python": 70.0,
                 "n_cpu_percent_c": 2.0, "n_sys_percent": 0.0, "n_peak_mb": 0.0,
                 "n_malloc_mb": 0.0}], "lines": []}}}
    p = tmp_path / "profile.json"
    p.write_text(json.dumps(data))
    got = report_json(str(p))["profiles"][0]
    assert got["type"] == "scalene" and got["max_footprint_at"] == "w.py:4"
    assert [r["location"] for r in got["functions"]] == ["w.py:5 spin", "w.py:2 alloc"]
    assert got["functions"][0]["cpu_percent"] == 72.0
    text = run(["report", str(p)], check=0).stdout
    assert "Peak memory:        64.0 MB at w.py:4" in text


# ---- bad input ----

def test_missing_input():
    r = run(["report", "/nonexistent/profile.stats"])
    assert r.returncode == 66 and "/nonexistent/profile.stats" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("cut", [1, 2, 7, 50, 333, -1])
def test_truncated_profile(profiles, tmp_path, cut):
    data = open(profiles["recursive"], "rb").read()
    bad = tmp_path / "cut.stats"
    bad.write_bytes(data[:cut] if cut > 0 else data[:len(data) + cut])
    r = run(["report", str(bad)])
    assert r.returncode == 65, r.stderr
    assert "offset" in r.stderr and len(r.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("obj, words", [
    ([1, 2], "unsupported marshal type '['"),
    ({("a", 1, "f"): (1, 1, 0.5, 0.5, {}), ("b", 2, "g"): frozenset()}, "unsupported marshal type"),
    ({("a", "x", "f"): (1, 1, 0.5, 0.5, {})}, "a line number expected"),
    ({("a", 1, "f"): (1, 1, 0.5, 0.5)}, "(cc, nc, tt, ct, callers) tuple expected"),
    ({("a", 1, "f"): (1, 1, b"x", 0.5, {})}, "unsupported marshal type 's'"),
    ({("a", 1, "f"): (1, 1, 0.5, 0.5, {("b", 1, "g"): "x"})}, "caller's (nc, cc, tt, ct)"),
])
def test_wrong_shape(tmp_path, obj, words):
    bad = tmp_path / "bad.stats"
    bad.write_bytes(marshal.dumps(obj))
    r = run(["report", str(bad)])
    assert r.returncode == 65, r.stderr
    assert words in r.stderr and "offset" in r.stderr


def test_bad_reference(tmp_path):
    bad = tmp_path / "bad.stats"
    bad.write_bytes(b"\xfb" + b"r" + (7).to_bytes(4, "little") + b"0")
    r = run(["report", str(bad)])
    assert r.returncode == 65 and "invalid reference 7" in r.stderr and "offset 1" in r.stderr


def test_big_ints_and_refs(tmp_path):
    # long ('l') call counts, interned strings and references, as marshal writes them
    key = ("/x/" + "y" * 300, 10, "fn")
    stats = {key: (2 ** 40, 2 ** 40 + 5, 1.5, 2.5, {key: (5, 0, 0.25, 0.5)}),
             ("~", 0, "<built-in method x>"): (1, 1, 0.0, 0.0, {key: (1, 1, 0.0, 0.0)})}
    p = tmp_path / "big.stats"
    p.write_bytes(marshal.dumps(stats))
    st = pstats.Stats(str(p))
    got = report_json(str(p))["profiles"][0]
    assert got["total_calls"] == st.total_calls and got["primitive_calls"] == st.prim_calls
    assert got["functions"][0]["ncalls"] == 2 ** 40 + 5
    assert got["functions"][1]["name"] == "{built-in method x}"


def test_not_a_profile(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("hello\n")
    r = run(["report", str(p)])
    assert r.returncode == 65 and "not a profile" in r.stderr


def test_corrupt_bundle(run_folder):
    path = bundle(run_folder, "tar.gz")
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(data[: len(data) // 2])
    r = run(["report", path])
    assert r.returncode == 65 and path in r.stderr


# ---- what `sctprof run -p cprofile` leaves ----

def test_run_then_report(tmp_path):
    out = tmp_path / "out"
    r = run(["run", "-p", "cprofile", "--output-dir", str(out), "--", PY,
             os.path.join(REPORT, "recursive.py")], cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr
    folder = [p for p in out.iterdir() if p.is_dir()][0]
    # the native post step wrote summary.txt and profile.svg
    summary = (folder / "summary.txt").read_text()
    st = pstats.Stats(str(folder / "profile.stats"))
    assert "%d function calls" % st.total_calls in summary
    assert "Ordered by: cumulative time" in summary
    svg_frames((folder / "profile.svg").read_text())
    bundles = [p for p in out.iterdir() if p.name.endswith(".tar.zst")]
    text = run(["report", str(bundles[0])], check=0).stdout
    assert folder.name in text and "tool         cprofile" in text and "exit         0" in text
    got = report_json(str(bundles[0]))
    assert got["profiles"][0]["total_calls"] == st.total_calls
