"""Shared fixtures for the end-to-end tests: they run the built sctprof binary against
real interpreters and profilers (stand-ins only from tests/fakes/, for tools that cannot
be installed on these machines).

SCTPROF_BIN names the binary under test (ci/test sets it for the normal and the
sanitizer build). Tests name their interpreter: /usr/bin/python3, never a bare
`python3`, because pyenv's shims may come first on PATH."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCTPROF = os.environ.get("SCTPROF_BIN", os.path.join(ROOT, "build", "cmd", "sctprof"))
PY = "/usr/bin/python3"
FAKES = os.path.join(ROOT, "tests", "fakes")
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
EXAMPLES = os.path.join(ROOT, "examples")


def clean_env(**extra):
    """An environment without pyenv's shims on PATH and without sctprof settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("SCTPROF_") and not k.startswith("SCT_PROFILE")}
    path = [p for p in env.get("PATH", "/usr/bin:/bin").split(":")
            if ".pyenv" not in p]
    env["PATH"] = ":".join(path)
    env.pop("VIRTUAL_ENV", None)
    env.update(extra)
    return env


def run(args, cwd=None, env=None, timeout=120, input=None, check=None):
    """Runs sctprof with args; returns the CompletedProcess (text mode)."""
    p = subprocess.run([SCTPROF] + list(args), cwd=cwd, env=env or clean_env(),
                       capture_output=True, text=True, timeout=timeout, input=input)
    if check is not None and p.returncode != check:
        raise AssertionError("sctprof %s exited %d, wanted %d\nstdout:\n%s\nstderr:\n%s"
                             % (" ".join(args), p.returncode, check, p.stdout, p.stderr))
    return p


@pytest.fixture
def sctprof():
    return run


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(path, text, mode=0o644):
    path = os.fspath(path)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path
