"""README.md shows each command's usage as `sctprof CMD --help` prints it, and the exit
statuses as `sctprof --help` lists them: the two come from the same strings, and this
keeps them from drifting apart."""

import os
import re

import pytest

from conftest import ROOT, run

README = open(os.path.join(ROOT, "README.md")).read()


def commands():
    out = run(["--help"], check=0).stdout
    block = out.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in block.splitlines() if line.strip()]


def test_every_command_is_listed():
    names = commands()
    assert {"run", "check", "report", "diff", "upload", "hook", "bundle"} <= set(names)


@pytest.mark.parametrize("name", commands())
def test_readme_shows_usage(name):
    out = run([name, "--help"], check=0).stdout
    synopsis = out.split("\n\n", 1)[0]
    assert synopsis.startswith("usage: sctprof " + name)
    assert "### sctprof " + name in README
    assert synopsis in README, "README's usage of %r differs from --help:\n%s" % (name, synopsis)


def test_readme_exit_statuses_match_help():
    out = run(["--help"], check=0).stdout
    listed = re.findall(r"^  (\d+)\s+(.+)$", out.split("Exit status:", 1)[1], re.M)
    assert len(listed) >= 10
    for code, meaning in listed:
        row = re.search(r"^\| %s \| (.+) \|$" % code, README, re.M)
        assert row, "exit status %s is not in README's table" % code
        assert row.group(1).replace("`", "") == meaning, code
