"""What the profile-kind tests share: the tools and the interpreters they run with, the
files each tool must leave, and helpers to run sctprof and read a run folder.

Real tools where Debian has them (scalene 1.5.16, `python -X importtime`); stand-ins
from tests/fakes/ for py-spy (on PATH), memray and viztracer (installed into a venv's
site-packages, as a real installation would be) and CPython 3.15's
profiling.sampling (an interpreter laid out as a venv whose pyvenv.cfg says 3.15)."""

import hashlib
import json
import os
import select
import subprocess
import time

from conftest import FAKES, FIXTURES, PY, SCTPROF, clean_env

WORK = os.path.join(FIXTURES, "kinds", "work.py")
FOREVER = os.path.join(FIXTURES, "kinds", "forever.py")
PY315 = os.path.join(FAKES, "python3.15", "bin", "python3.15")


def fakes_env(**extra):
    """clean_env() with the stand-ins' bin/ first on PATH, as an installation would be."""
    env = clean_env(**extra)
    env["PATH"] = os.path.join(FAKES, "bin") + ":" + env["PATH"]
    return env


def make_venv(path):
    """A venv (no pip) with the stand-ins installed: each package and its .dist-info
    linked into site-packages, as pip would have put them, so that `python -m memray`
    and `python -m viztracer` work there and their versions are found."""
    subprocess.run([PY, "-m", "venv", "--without-pip", path], check=True,
                   capture_output=True)
    site = subprocess.run([os.path.join(path, "bin", "python3"), "-c",
                           "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    packages = os.path.join(FAKES, "python")
    for entry in os.listdir(packages):
        if entry != "__pycache__":
            os.symlink(os.path.join(packages, entry), os.path.join(site, entry))
    return os.path.join(path, "bin", "python3")


class Case:
    def __init__(self, id, kind, tool, python, files, env=None, failing_steps=()):
        self.id = id
        self.kind = kind
        self.tool = tool
        self.python = python          # PY, PY315, or "venv"
        self.files = files            # fixed names the run must leave, besides summary.txt
        self.env = env or {}
        self.failing_steps = failing_steps   # post steps expected to be recorded as failed

    def __repr__(self):
        return self.id


CASES = [
    Case("py-spy", "sampling", "py-spy", PY,
         ["profile.speedscope.json", "profile.svg"]),
    Case("profiling.sampling", "sampling", "profiling.sampling", PY315,
         ["profile.bin", "profile.stats", "flamegraph.html"]),
    Case("profiling.sampling-early", "sampling", "profiling.sampling", PY315,
         ["profile.stats"], env={"SCTPROF_FAKE_TACHYON": "early"},
         failing_steps=("flamegraph.html",)),
    Case("scalene-as-sampling", "sampling", "scalene", PY, ["scalene.json", "scalene.html"]),
    Case("memray", "memory", "memray", "venv",
         ["memray.bin", "memray-stats.json", "memray-flamegraph.html"]),
    Case("scalene-as-memory", "memory", "scalene", PY, ["scalene.json", "scalene.html"]),
    Case("viztracer", "timeline", "viztracer", "venv", ["trace.json"]),
    Case("scalene", "scalene", "scalene", PY, ["scalene.json", "scalene.html"]),
    Case("importtime", "imports", "importtime", PY, ["importtime.log", "importtime.json"]),
]

RAW = {  # the file a stopped run must still leave, per tool
    "py-spy": "profile.speedscope.json",
    "profiling.sampling": "profile.stats",
    "scalene": "scalene.json",
    "memray": "memray.bin",
    "viztracer": "trace.json",
    "importtime": "importtime.log",
}


def interpreter(case, venv_python):
    return venv_python if case.python == "venv" else case.python


def sctprof_argv(case, outdir, program, *args, extra=()):
    return [SCTPROF, "run", "-p", case.kind, "--tool", case.tool, "-o", str(outdir)] + \
        list(extra) + ["--", program] + list(args)


def run_case(case, venv_python, outdir, *args, extra=(), timeout=180):
    argv = sctprof_argv(case, outdir, interpreter(case, venv_python), WORK, *args,
                        extra=extra)
    return subprocess.run(argv, env=fakes_env(**case.env), capture_output=True, text=True,
                          timeout=timeout)


def run_folder(outdir):
    dirs = [os.path.join(outdir, d) for d in os.listdir(outdir)
            if os.path.isdir(os.path.join(outdir, d)) and d != "latest"]
    assert len(dirs) == 1, dirs
    return dirs[0]


def manifest(folder):
    with open(os.path.join(folder, "manifest.json")) as f:
        return json.load(f)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def artifacts(m):
    """manifest.json's artifact list as {name: entry}."""
    return {a["name"]: a for a in m["artifacts"]}


def wait_for_line(proc, text, limit=90):
    """Reads proc's stdout until a line contains text; returns what was read. The limit
    only keeps a broken run from hanging the suite: nothing is asserted about time."""
    seen = []
    end = time.monotonic() + limit
    fd = proc.stdout.fileno()
    buf = b""
    while time.monotonic() < end:
        r, _, _ = select.select([fd], [], [], 1.0)
        if not r:
            continue
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            seen.append(line.decode("utf-8", "replace"))
            if text in seen[-1]:
                return seen
    raise AssertionError("no line with %r from %s; got:\n%s" % (text, proc.args,
                                                                 "\n".join(seen)))
