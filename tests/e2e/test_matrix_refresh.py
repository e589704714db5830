"""`sctprof matrix refresh` against a local server answering with PyPI- and GitHub-shaped
JSON (the shapes of https://pypi.org/pypi/NAME/json and
https://api.github.com/repos/OWNER/REPO/issues/N)."""

import os
import shutil

import pytest

from conftest import FIXTURES, clean_env, run
from servers import JsonServer, free_port

MATRIX = os.path.join(FIXTURES, "refresh", "compat-matrix.yaml")


def pypi(name, versions, classifiers, requires_python=">=3.9"):
    """versions: [(version, iso upload time)], oldest first; the last is the latest."""
    return {
        "info": {"name": name, "version": versions[-1][0], "requires_python": requires_python,
                 "classifiers": ["License :: OSI Approved :: MIT License",
                                 "Programming Language :: Python :: 3",
                                 "Programming Language :: Python :: 3 :: Only"]
                 + ["Programming Language :: Python :: %s" % c for c in classifiers]},
        "releases": {v: [{"filename": "%s-%s.tar.gz" % (name, v), "upload_time": t[:19],
                          "upload_time_iso_8601": t, "yanked": False}] for v, t in versions},
        "urls": [],
    }


def issue(n, state, closed_at=None, reason=None):
    return {"number": n, "title": "issue %d" % n, "state": state, "state_reason": reason,
            "closed_at": closed_at, "html_url": "https://github.com/benfred/py-spy/issues/%d" % n}


def routes(py_spy_852="closed", py_spy_classifiers=("3.13", "3.14", "3.15")):
    py = ["3.%d" % m for m in range(9, 15)]
    return {
        "/pypi/py-spy/json": pypi("py-spy", [("0.4.1", "2025-07-31T10:00:00.000000Z"),
                                             ("0.4.2", "2026-04-24T09:00:00.000000Z"),
                                             ("0.4.3", "2026-07-10T12:30:00.000000Z")],
                                  py_spy_classifiers),
        "/pypi/scalene/json": pypi("scalene", [("2.1.4", "2026-01-10T00:00:00Z")], py),
        "/pypi/viztracer/json": pypi("viztracer", [("1.1.1", "2025-11-01T00:00:00Z")],
                                     ["3.10", "3.11", "3.12", "3.13", "3.14"]),
        "/pypi/memray/json": pypi("memray", [("1.20.0", "2026-05-01T00:00:00Z")],
                                  py + ["3.15"]),
        "/pypi/snakeviz/json": pypi("snakeviz", [("2.2.2", "2024-11-01T00:00:00Z")], py[:4]),
        "/pypi/gprof2dot/json": pypi("gprof2dot", [("2025.4.14", "2025-04-14T00:00:00Z")], []),
        "/repos/benfred/py-spy/issues/750": issue(750, "closed", "2026-04-20T08:00:00Z",
                                                  "completed"),
        "/repos/benfred/py-spy/issues/852":
            issue(852, "closed", "2026-07-01T16:00:00Z", "completed")
            if py_spy_852 == "closed" else issue(852, "open"),
    }


@pytest.fixture
def api():
    servers = []

    def start(**kw):
        s = JsonServer(routes(**kw))
        servers.append(s)
        return s
    yield start
    for s in servers:
        s.close()


@pytest.fixture
def matrix(tmp_path):
    p = tmp_path / "compat-matrix.yaml"
    shutil.copy(MATRIX, p)
    return str(p)


def refresh(matrix, server, *extra, check=0):
    return run(["matrix", "refresh", "--matrix", matrix, "--pypi-url", server.url,
                "--github-api-url", server.url] + list(extra),
               env=clean_env(GITHUB_TOKEN="ghp_sctprofTestToken0123456789"), check=check)


def test_closed_issue_and_new_classifier_are_proposed(matrix, api):
    server = api()
    before = open(matrix).read()
    p = refresh(matrix, server)
    assert open(matrix).read() == before, "without --write the matrix is not touched"
    out = p.stdout.splitlines()
    assert ("%s:%d:17: py-spy: https://github.com/benfred/py-spy/issues/852 was closed on "
            "2026-07-01; py-spy 0.4.3 came out after it (2026-07-10)"
            % (matrix, _status_line(matrix, ">=3.14.5, <3.15"))) in out
    i = out.index(next(l for l in out if "issues/852 was closed" in l))
    assert out[i + 1:i + 4] == [
        "    status: untested -> supported",
        "    min-version: 0.4.2 -> 0.4.3",
        '    note: thread names are not read on 3.14.5 and later, and sampling falls behind'
        ' -> "fixed in 0.4.3 (tracking issue closed 2026-07-01)"']
    assert ("%s:%d:17: py-spy: py-spy 0.4.3 has the classifier \"Python :: 3.15\"; row "
            "'>=3.15' says unsupported" % (matrix, _status_line(matrix, ">=3.15"))) in out
    j = out.index(next(l for l in out if "row '>=3.15' says unsupported" in l))
    assert out[j + 1:j + 4] == [
        "    status: unsupported -> untested",
        "    min-version: (none) -> 0.4.3",
        '    note: py-spy 0.4.2 reads CPython up to 3.14 only -> "py-spy 0.4.3 lists Python '
        '3.15 on PyPI; not yet tried with sctprof"']
    assert any("py-spy: py-spy 0.4.3 is out (2026-07-10, requires-python >=3.9), newer than "
               "every min-version in the matrix (0.4.2)" in l for l in out)
    # Issue 750's row is supported already; nothing else is new.
    assert not any("issues/750" in l for l in out)
    # A release past every min-version is news, not an edit.
    assert any(l.endswith("viztracer: viztracer 1.1.1 is out (2025-11-01, requires-python "
                          ">=3.9), newer than every min-version in the matrix (1.1.0)")
               for l in out)
    assert not any(t in p.stdout for t in ("scalene", "snakeviz", "gprof2dot"))
    assert "memray" not in p.stdout   # its 3.15 row exists
    assert out[-1] == "%s: 6 edits proposed; run with --write to apply" % matrix
    assert "/repos/benfred/py-spy/issues/852" in server.asked


def _status_line(path, rng):
    """The line of `status:` in the row whose range is rng."""
    lines = open(path).read().splitlines()
    start = [i for i, l in enumerate(lines) if l.strip() == '- range: "%s"' % rng][0]
    return [i + 1 for i in range(start, len(lines)) if lines[i].strip().startswith("status:")][0]


def test_write_keeps_comments_and_order(matrix, api):
    server = api()
    before = open(matrix).read()
    p = refresh(matrix, server, "--write")
    assert p.stdout.splitlines()[-1] == "%s: 6 edits written" % matrix
    after = open(matrix).read()
    row_852 = ("        status: untested\n        min-version: 0.4.2\n        note: thread names "
               "are not read on 3.14.5 and later, and sampling falls behind\n")
    row_315 = ('      - range: ">=3.15"\n        status: unsupported\n'
               "        note: py-spy 0.4.2 reads CPython up to 3.14 only\n")
    assert before.count(row_852) == 1 and before.count(row_315) == 1
    # Exactly these rows changed, in place; every comment and every other byte is kept.
    assert after == before.replace(row_852, (
        "        status: supported\n        min-version: 0.4.3\n"
        '        note: "fixed in 0.4.3 (tracking issue closed 2026-07-01)"\n')).replace(row_315, (
        '      - range: ">=3.15"\n        status: untested\n'
        '        note: "py-spy 0.4.3 lists Python 3.15 on PyPI; not yet tried with sctprof"\n'
        "        min-version: 0.4.3\n"))
    # A second refresh finds nothing left to edit.
    p = refresh(matrix, server)
    assert p.stdout.splitlines()[-1] == "%s: no edits to make" % matrix
    assert "py-spy" not in p.stdout


def test_a_series_without_any_row_gets_one(matrix, api, tmp_path):
    server = api()
    server.routes["/pypi/viztracer/json"] = pypi(
        "viztracer", [("1.1.1", "2025-11-01T00:00:00Z"), ("1.2.0", "2026-08-01T00:00:00Z")],
        ["3.13", "3.14", "3.15"])
    p = refresh(matrix, server, "--write")
    assert 'viztracer 1.2.0 has the classifier "Python :: 3.15", which no row covers' in p.stdout
    text = open(matrix).read()
    assert ('      - range: "3.14"\n        status: supported\n        min-version: 1.1.0\n'
            '        note: supports 3.14 since 1.1.0\n'
            '      - range: "3.15"\n        status: untested\n        min-version: 1.2.0\n'
            '        note: "viztracer 1.2.0 lists Python 3.15 on PyPI; not yet tried with '
            'sctprof"\n\n  memray:') in text


def test_open_issue_and_no_new_classifier_change_nothing(matrix, api):
    server = api(py_spy_852="open", py_spy_classifiers=("3.13", "3.14"))
    p = refresh(matrix, server, "--write")
    assert p.stdout.splitlines()[-1] == "%s: no edits to make" % matrix
    assert open(matrix).read() == open(MATRIX).read()


def test_offline_is_one_line_and_exit_75(matrix):
    dead = "http://127.0.0.1:%d" % free_port()
    p = run(["matrix", "refresh", "--matrix", matrix, "--pypi-url", dead,
             "--github-api-url", dead], env=clean_env(), check=75)
    assert p.stdout == ""
    assert len(p.stderr.splitlines()) == 1
    assert p.stderr.startswith("sctprof: matrix refresh: offline? '%s/pypi/" % dead)


def test_api_refusal_is_exit_76_and_token_stays_secret(matrix, api):
    server = api()
    server.routes["/repos/benfred/py-spy/issues/750"] = (
        403, {"message": "API rate limit exceeded for ghp_sctprofTestToken0123456789"})
    p = refresh(matrix, server, "--write", check=76)
    assert "HTTP 403: API rate limit exceeded for ***" in p.stderr
    assert "ghp_sctprofTestToken0123456789" not in p.stdout + p.stderr
    assert open(matrix).read() == open(MATRIX).read()


def test_malformed_matrix_names_line_and_column(tmp_path, api):
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema: 1\ntools:\n  py-spy:\n    python: [\n")
    p = refresh(str(bad), api(), check=65)
    assert p.stderr.startswith("sctprof: matrix refresh: matrix '%s':5:1:" % bad)
    refresh(str(tmp_path / "none.yaml"), api(), check=66)
