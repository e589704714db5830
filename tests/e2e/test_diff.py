"""sctprof diff: regressions found and exit 1, no regression and exit 0, paths from two
checkouts in different folders match, JUnit has one failing testcase per regression."""

import json
import marshal
import os
import xml.etree.ElementTree as ET

import pytest

from conftest import FIXTURES, run

REPORT = os.path.join(FIXTURES, "report")


def stats_file(path, funcs, root):
    """funcs: {(relpath, line, name): (calls, tottime, cumtime)} under checkout root."""
    stats = {}
    for (rel, line, name), (n, tt, ct) in funcs.items():
        f = rel if rel == "~" else os.path.join(root, rel)
        stats[(f, line, name)] = (n, n, tt, ct, {})
    with open(path, "wb") as f:
        marshal.dump(stats, f)
    return str(path)


BASE = {
    ("sdcm/cluster.py", 10, "wait_for_init"): (1, 0.1, 2.0),
    ("sdcm/cluster.py", 50, "node_setup"): (3, 0.5, 1.0),
    ("sdcm/utils/common.py", 7, "retry"): (40, 0.2, 0.3),
    ("~", 0, "<built-in method time.sleep>"): (10, 0.4, 0.4),
}


@pytest.fixture
def pair(tmp_path):
    base = stats_file(tmp_path / "base.stats", BASE, "/home/jenkins/ws1/scylla-cluster-tests")
    new_funcs = dict(BASE)
    new_funcs[("sdcm/cluster.py", 50, "node_setup")] = (3, 0.9, 1.5)        # +50%
    new_funcs[("sdcm/utils/common.py", 7, "retry")] = (40, 0.2, 0.302)      # tiny change
    new = stats_file(tmp_path / "new.stats", new_funcs, "/srv/checkout/sct")
    return base, new


def test_regression_exit_1(pair):
    base, new = pair
    r = run(["diff", base, new])
    assert r.returncode == 1, r.stderr
    lines = r.stdout.splitlines()
    row = [l for l in lines if "node_setup" in l][0]
    assert "sdcm/cluster.py:50(node_setup)" in row and "REGRESSION" in row and "+50.0%" in row
    assert "REGRESSION" not in [l for l in lines if "retry" in l][0]
    # sorted by absolute change: node_setup first
    body = [l for l in lines if ".py:" in l or "{built-in" in l]
    assert "node_setup" in body[0]


def test_no_regression_exit_0(pair):
    base, new = pair
    assert run(["diff", "--threshold", "60%", base, new]).returncode == 0
    assert run(["diff", "--min-time", "1s", base, new]).returncode == 0
    assert run(["diff", base, base]).returncode == 0


def test_paths_from_two_checkouts_match(pair):
    base, new = pair
    got = json.loads(run(["diff", "--format", "json", "--top", "0", base, new]).stdout)
    names = sorted(f["function"] for f in got["functions"])
    assert names == ["sdcm/cluster.py:10(wait_for_init)", "sdcm/cluster.py:50(node_setup)",
                     "sdcm/utils/common.py:7(retry)", "{built-in method time.sleep}"]
    assert all(f["status"] in ("ok", "regression") for f in got["functions"])
    # node_setup and the total (tottime summed: 1.2 s -> 1.6 s)
    assert got["regressions"] == 2 and got["metric"] == "cumtime"
    assert got["total"]["status"] == "regression"


def test_site_packages_and_moved_lines(tmp_path):
    base = stats_file(tmp_path / "b.stats", {
        ("venv-a/lib/python3.11/site-packages/requests/api.py", 59, "request"): (1, 0.1, 1.0),
        ("sdcm/a.py", 10, "moved"): (1, 0.1, 1.0),
    }, "/x")
    new = stats_file(tmp_path / "n.stats", {
        ("other/.venv/lib/python3.11/site-packages/requests/api.py", 59, "request"): (1, 0.1, 1.0),
        ("sdcm/a.py", 14, "moved"): (1, 0.1, 1.0),
    }, "/y/z")
    got = json.loads(run(["diff", "--format", "json", base, new]).stdout)
    assert {f["function"]: f["status"] for f in got["functions"]} == {
        "requests/api.py:59(request)": "ok", "sdcm/a.py:14(moved)": "ok"}


def test_tottime_and_calls(pair):
    base, new = pair
    got = json.loads(run(["diff", "--metric", "tottime", "--format", "json", base, new]).stdout)
    assert got["functions"][0]["function"].endswith("(node_setup)")
    assert got["functions"][0]["base"] == 0.5 and got["functions"][0]["new"] == 0.9
    assert run(["diff", "--metric", "calls", base, new]).returncode == 0


def test_junit(pair):
    base, new = pair
    r = run(["diff", "--format", "junit", base, new])
    assert r.returncode == 1
    root = ET.fromstring(r.stdout)
    cases = root.findall(".//testcase")
    failed = [c for c in cases if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == ["total", "sdcm/cluster.py:50(node_setup)"]
    assert root.get("failures") == "2"
    assert "beyond 10%" in failed[1].find("failure").get("message")


def test_markdown(pair):
    base, new = pair
    out = run(["diff", "--format", "markdown", base, new]).stdout
    assert out.startswith("### sctprof diff: regressions found")
    assert "| base | new | change | function | |" in out and "**regression**" in out


def test_peak_memory(tmp_path):
    src = json.load(open(os.path.join(REPORT, "memray-stats.json")))
    base = tmp_path / "memray-stats.json"
    base.write_text(json.dumps(src))
    src["metadata"]["peak_memory"] *= 2
    src["top_allocations_by_size"][0]["location"] = \
        "load_config:/other/checkout/sdcm/sct_config.py:1732"
    src["top_allocations_by_size"][0]["size"] *= 3
    new = tmp_path / "new"
    new.mkdir()
    (new / "memray-stats.json").write_text(json.dumps(src))
    r = run(["diff", "--format", "json", str(base), str(new)])
    assert r.returncode == 1, r.stderr
    got = json.loads(r.stdout)
    assert got["metric"] == "peak-memory"
    assert got["total"]["status"] == "regression"
    assert got["functions"][0]["status"] == "regression"
    assert "sct_config.py:1732" in got["functions"][0]["function"]


def test_errors(pair, tmp_path):
    base, new = pair
    assert run(["diff", base]).returncode == 64
    assert run(["diff", "--threshold", "lots", base, new]).returncode == 64
    r = run(["diff", base, str(tmp_path / "missing.stats")])
    assert r.returncode == 66 and "missing.stats" in r.stderr
    bad = tmp_path / "bad.stats"
    bad.write_bytes(open(base, "rb").read()[:40])
    r = run(["diff", base, str(bad)])
    assert r.returncode == 65 and "offset" in r.stderr
    r = run(["diff", "--metric", "cumtime", base, os.path.join(REPORT, "memray-stats.json")])
    assert r.returncode == 65 and "no cProfile data" in r.stderr
