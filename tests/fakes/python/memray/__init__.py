"""Stand-in for memray 1.20.0 (bloomberg/memray), which cannot be installed on these
machines (no PyPI). Run as `python -m memray` from an interpreter that has it in its
site-packages (the tests link this folder and its .dist-info into a venv's, as an
installation would).

Reproduced from memray's source at v1.20.0, for what sctprof relies on:

  * the command line (src/memray/commands/__init__.py and the command modules): -V /
    --version prints "1.20.0"; subcommands run, attach, detach, stats, flamegraph,
    summary with the options of run.py (RunCommand.prepare_parser: -o/--output, --live,
    --live-remote, --live-port/-p, --aggregate, --native, --follow-fork,
    --trace-python-allocators, -q/--quiet, -f/--force, --compress-on-exit/--no-compress,
    -c, -m "terminates option list", the script and its arguments as REMAINDER),
    attach.py (-o/--output, -f/--force, --aggregate, --native, --follow-fork,
    --trace-python-allocators, compression, --duration, --method, -v, pid), stats.py
    (--json, -o/--output, -f/--force, -n/--num-largest, -a/--include-all-allocations),
    flamegraph.py (-o/--output, -f/--force, --leaks, --temporal, --split-threads,
    --inverted, --no-web, --max-memory-records), summary.py (-s/--sort-column,
    -r/--max-rows); argparse's errors (exit 2) for anything else;
  * run: the output file is created when tracking starts and refused when it exists
    without --force ("Output file ... already exists", exit 1); the program runs in this
    process through runpy (sys.argv, sys.path[0] as run.py sets them); SystemExit,
    KeyboardInterrupt and exceptions pass through (memray.commands.main catches only
    MemrayCommandError), so the exit status is the program's; no signal handler is
    installed; --follow-fork makes a forked child write <output>.<pid>
    (src/memray/_memray/sink.cpp, docs/run.rst);
  * the capture survives a kill: records reach the file as they are made (the real
    default writes through mmap: "more resilient to process crashes", docs/run.rst), and
    a reader ignores a truncated last record (NEWS.rst, #129);
  * attach returns as soon as tracking runs in the target; the target finishes the file
    when tracking stops (detach, its exit, --duration); detach without a previous attach
    fails with "no previous `memray attach` call detected";
  * stats refuses --aggregate captures (docs/run.rst).

What it cannot do is hook the allocator of another process or of C code. Its capture
holds the file's real magic (b"memray") followed by the stand-in's own records:
snapshots of tracemalloc's traced allocations, grouped by Python stack. Attached, it
records the target's resident memory from /proc/PID/status from a helper process. Only
this stand-in's reporters read these files.
"""

__version__ = "1.20.0"
