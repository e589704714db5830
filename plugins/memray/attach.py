"""sctprof's driver for `memray attach`: one command that sctprof can supervise like any
profiler run.

`memray attach -o FILE PID` starts tracking inside the running process and returns at
once; the capture is completed by that process when tracking stops: `memray detach PID`,
the process exiting, or memray's own --duration timer. This driver attaches, then waits
until the process exits, --duration passes, or it gets SIGINT/SIGTERM/SIGHUP (how
sctprof stops a run), and then detaches, which returns once the capture is complete. It
exits with memray attach's status when attaching failed, else with memray detach's (0
when the process exited by itself).

Usage (by sctprof only):
  python attach.py --pid PID --duration SECONDS --output FILE -- [memray attach options]
"""

import signal
import subprocess
import sys
import time


def parse(argv):
    opts = {"pid": None, "duration": "0", "output": None}
    rest = []
    for i, a in enumerate(argv):
        if a == "--":
            rest = argv[i + 1:]
            break
        key, _, value = a[2:].partition("=")
        if not a.startswith("--") or key not in opts or not value:
            sys.exit("sctprof memray attach driver: bad option %r" % a)
        opts[key] = value
    if not opts["pid"] or not opts["output"]:
        sys.exit("sctprof memray attach driver: --pid and --output are required")
    return int(opts["pid"]), float(opts["duration"]), opts["output"], rest


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def main():
    pid, duration, output, extra = parse(sys.argv[1:])
    stop = []

    def on_signal(sig, frame):
        stop.append(sig)

    # Installed before attaching, so a stop that comes early still detaches.
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, on_signal)
    memray = [sys.executable, "-m", "memray"]
    rc = subprocess.call(memray + ["attach", "--output", output] + extra + [str(pid)])
    if rc != 0:
        return rc
    print("sctprof: memray is tracking process %d into %s%s" % (
        pid, output, " for %g s" % duration if duration > 0 else
        "; stop with Ctrl-C (or when it exits)"), flush=True)
    deadline = time.monotonic() + duration if duration > 0 else None
    while not stop and alive(pid):
        if deadline is not None and time.monotonic() >= deadline:
            break
        time.sleep(0.2)
    if not alive(pid):
        # The process's own exit finished the capture.
        return 0
    return subprocess.call(memray + ["detach", str(pid)])


if __name__ == "__main__":
    sys.exit(main())
