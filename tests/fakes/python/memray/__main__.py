"""The memray stand-in's command line: see __init__.py for what it reproduces."""

import argparse
import html
import json
import os
import pathlib
import runpy
import signal
import shutil
import sys
import threading
import time
import tracemalloc

from memray import __version__

MAGIC = b"memray\0"
ATTACH_DIR = "/tmp"


class CommandError(Exception):
    def __init__(self, message, exit_code=1):
        super().__init__(message)
        self.exit_code = exit_code


# --- capture files ---------------------------------------------------------------------


class Writer:
    """Appends one JSON record per line after the magic; every record is flushed."""

    def __init__(self, path, overwrite, header):
        if os.path.exists(path) and not overwrite:
            raise CommandError("Output file %s already exists" % path)
        self.path = path
        self.f = open(path, "wb")
        self.f.write(MAGIC)
        self.record(header)

    def record(self, rec):
        self.f.write(json.dumps(rec, separators=(",", ":")).encode() + b"\n")
        self.f.flush()

    def close(self):
        try:
            self.f.close()
        except OSError:
            pass


def read_capture(path):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise CommandError("No such file: %s" % path if e.errno == 2 else str(e))
    if not data.startswith(MAGIC):
        raise CommandError("Failed to parse allocation records in %s\nReason: the file "
                           "is not a memray capture file" % path)
    header, snapshot, complete = None, None, False
    for line in data[len(MAGIC):].split(b"\n"):
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # a truncated last record: the process was killed
        if rec.get("t") == "header":
            header = rec
        elif rec.get("t") == "snapshot":
            snapshot = rec
        elif rec.get("t") == "end":
            complete = True
    if header is None:
        raise CommandError("Failed to parse allocation records in %s" % path)
    return header, snapshot or {"t": "snapshot", "allocations": [], "peak": 0,
                                "current": 0, "ts": header["start"]}, complete


# --- tracking in this process ----------------------------------------------------------


class Tracker:
    def __init__(self, output, overwrite, follow_fork, aggregate, native, command_line):
        self.output = output
        self.follow_fork = follow_fork
        self.header = {"t": "header", "version": __version__, "pid": os.getpid(),
                       "start": time.time(), "command_line": command_line,
                       "native_traces": native, "aggregated": aggregate}
        self.writer = Writer(output, overwrite, self.header)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.thread = None

    def snapshot(self):
        current, peak = tracemalloc.get_traced_memory()
        stats = tracemalloc.take_snapshot().statistics("traceback")
        allocs = []
        for st in stats[:200]:
            stack = [[fr.filename, fr.lineno] for fr in st.traceback]
            allocs.append({"stack": stack, "size": st.size, "count": st.count})
        return {"t": "snapshot", "ts": time.time(), "current": current, "peak": peak,
                "allocations": allocs}

    def write_snapshot(self):
        with self.lock:
            if self.writer is not None:
                self.writer.record(self.snapshot())

    def loop(self):
        while not self.stop.wait(1.0):
            self.write_snapshot()

    def start(self):
        tracemalloc.start(32)
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()
        if self.follow_fork:
            os.register_at_fork(after_in_child=self.after_fork)

    def after_fork(self):
        # The child writes its own capture, <output>.<pid>.
        self.writer = Writer("%s.%d" % (self.output, os.getpid()), True,
                             dict(self.header, pid=os.getpid(), start=time.time()))
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def finish(self):
        self.stop.set()
        with self.lock:
            if self.writer is None:
                return
            self.writer.record(self.snapshot())
            self.writer.record({"t": "end", "ts": time.time()})
            self.writer.close()
            self.writer = None
        tracemalloc.stop()


def should_modify_sys_path():
    return not sys.flags.isolated and not getattr(sys.flags, "safe_path", False)


def cmd_run(args, parser):
    if args.live_port is not None and not args.live_remote_mode:
        parser.error("The --live-port argument requires --live-remote")
    if args.follow_fork and (args.live_mode or args.live_remote_mode):
        parser.error("--follow-fork cannot be used with the live TUI")
    if args.aggregate and (args.live_mode or args.live_remote_mode):
        parser.error("--aggregate cannot be used with the live TUI")
    if args.live_mode or args.live_remote_mode:
        raise CommandError("the memray stand-in does not reproduce live mode")
    if not args.run_as_module:
        try:
            source = args.script.encode() if args.run_as_cmd else \
                pathlib.Path(args.script).read_bytes()
            compile(source, args.script, "exec")
        except (SyntaxError, ValueError, OSError):
            raise CommandError("Only valid Python files or commands can be executed under "
                               "memray")
    if args.output is None:
        name = "string" if args.run_as_cmd else args.script
        filename = os.path.join(os.path.dirname(name), "memray-%s.%d.bin"
                                % (os.path.basename(name), os.getpid()))
    else:
        filename = args.output
    if not args.quiet:
        print("Writing profile results into %s" % filename)
    tracker = Tracker(filename, args.force, args.follow_fork, args.aggregate, args.native,
                      " ".join(sys.argv))
    tracker.start()
    pid = os.getpid()
    try:
        if args.run_as_module:
            if should_modify_sys_path():
                sys.path[0] = os.getcwd()
            sys.argv = ["", *args.script_args]
            runpy.run_module(args.script, run_name="__main__", alter_sys=True)
        elif args.run_as_cmd:
            if should_modify_sys_path():
                sys.path[0] = ""
            sys.argv = ["-c", *args.script_args]
            exec(args.script, {"__name__": "__main__"})
        else:
            if should_modify_sys_path():
                sys.path[0] = str(pathlib.Path(args.script).resolve().parent.absolute())
            sys.argv = [args.script, *args.script_args]
            runpy.run_path(args.script, run_name="__main__")
    finally:
        if os.getpid() == pid:
            tracker.finish()
            if not args.quiet:
                print("[memray] Successfully generated profile results.\n\nYou can now "
                      "generate reports from the stored allocation records.\nSome example "
                      "commands to generate reports:\n\n%s -m memray flamegraph %s"
                      % (sys.executable, filename))
        else:
            tracker.finish()


# --- attach / detach -------------------------------------------------------------------


def pidfile(pid):
    return os.path.join(ATTACH_DIR, "memray-standin-attach-%d.pid" % pid)


def proc_alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def status_kib(pid, key):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tracking_daemon(pid, writer, duration):
    """Runs in a detached process: what the tracker inside the target would record."""
    stop = []
    signal.signal(signal.SIGUSR1, lambda s, f: stop.append(s))
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode("utf-8", "replace").strip()
    except OSError:
        cmd = "?"
    deadline = time.monotonic() + duration if duration else None
    peak = 0
    while not stop and proc_alive(pid):
        if deadline is not None and time.monotonic() >= deadline:
            sys.stderr.write("memray: Deactivating tracking: %s seconds have elapsed\n"
                             % duration)
            break
        rss = status_kib(pid, "VmRSS") * 1024
        peak = max(peak, rss)
        writer.record({"t": "snapshot", "ts": time.time(), "current": rss, "peak": peak,
                       "allocations": [{"stack": [["<process %d> %s" % (pid, cmd), 0]],
                                        "size": rss, "count": 1}]})
        time.sleep(0.2)
    writer.record({"t": "end", "ts": time.time()})
    writer.close()


def cmd_attach(args, parser):
    method = args.method
    if method == "auto":
        method = "gdb" if shutil.which("gdb") else "lldb" if shutil.which("lldb") else None
        if method is None:
            raise CommandError("Cannot find a supported lldb or gdb executable.")
    elif not shutil.which(method):
        raise CommandError("Cannot find a supported %s executable." % method)
    if not args.output:
        raise CommandError("the memray stand-in does not reproduce live attach (give -o)")
    if not proc_alive(args.pid):
        raise CommandError("Failed to attach a debugger to the process.\nThe given process "
                           "ID does not exist.")
    try:
        exe = os.path.basename(os.readlink("/proc/%d/exe" % args.pid))
    except OSError:
        exe = ""
    if not exe.startswith("python"):
        raise CommandError("The process does not seem to be running Python 3.7 or newer.")
    if os.path.exists(pidfile(args.pid)):
        # A second attach replaces the first tracker, as deactivate_last_tracker() does.
        cmd_detach(args, parser)
    output = os.path.abspath(args.output)
    writer = Writer(output, args.force, {
        "t": "header", "version": __version__, "pid": args.pid, "start": time.time(),
        "command_line": "attached", "native_traces": args.native,
        "aggregated": args.aggregate})
    ready_r, ready_w = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(ready_r)
        os.setsid()
        if os.fork() != 0:
            os._exit(0)
        with open(pidfile(args.pid), "w") as f:
            f.write(str(os.getpid()))
        os.write(ready_w, b"ok")
        os.close(ready_w)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1):
            os.dup2(devnull, fd)
        try:
            tracking_daemon(args.pid, writer, args.duration)
        finally:
            try:
                os.unlink(pidfile(args.pid))
            except OSError:
                pass
            os._exit(0)
    os.close(ready_w)
    writer.f.close()
    os.waitpid(child, 0)
    if os.read(ready_r, 2) != b"ok":
        raise CommandError("Failed to start tracking in remote process")


def cmd_detach(args, parser):
    path = pidfile(args.pid)
    try:
        with open(path) as f:
            daemon = int(f.read())
    except (OSError, ValueError):
        raise CommandError("Failed to stop tracking in remote process: no previous "
                           "`memray attach` call detected")
    try:
        os.kill(daemon, signal.SIGUSR1)
    except ProcessLookupError:
        pass
    # Returns once tracking stopped and the capture is complete.
    while os.path.exists(path) and proc_alive(daemon):
        time.sleep(0.05)


# --- reporters -------------------------------------------------------------------------


def frame_name(fr):
    return "%s:%d" % (fr[0], fr[1]) if len(fr) > 1 else str(fr[0])


def location(stack):
    return frame_name(stack[-1]) if stack else "<unknown>"


def output_path(args, default):
    path = args.output or default
    if os.path.exists(path) and not args.force:
        raise CommandError("File already exists, will not overwrite: %s" % path)
    return path


def cmd_stats(args, parser):
    header, snap, _ = read_capture(args.results)
    if header.get("aggregated"):
        raise CommandError("Can't create stats from an aggregated capture file: use "
                           "`memray run` without --aggregate")
    allocs = snap["allocations"]
    total = sum(a["size"] for a in allocs)
    count = sum(a["count"] for a in allocs)
    by_size = sorted(allocs, key=lambda a: -a["size"])[:args.num_largest]
    by_count = sorted(allocs, key=lambda a: -a["count"])[:args.num_largest]
    data = {
        "total_num_allocations": count,
        "total_bytes_allocated": total,
        "allocation_size_histogram": [{"min_bytes": 0, "max_bytes": total, "count": count}],
        "allocator_type_distribution": {"MALLOC": count},
        "top_allocations_by_size": [{"location": location(a["stack"]), "size": a["size"]}
                                    for a in by_size],
        "top_allocations_by_count": [{"location": location(a["stack"]), "count": a["count"]}
                                     for a in by_count],
        "metadata": {
            "start_time": header["start"], "end_time": snap["ts"],
            "total_allocations": count, "total_frames": sum(len(a["stack"]) for a in allocs),
            "peak_memory": snap["peak"], "command_line": header["command_line"],
            "pid": header["pid"], "python_allocator": "pymalloc",
            "has_native_traces": header["native_traces"],
            "trace_python_allocators": False, "file_format": "ALL_ALLOCATIONS"},
    }
    if args.json:
        name = os.path.basename(args.results)
        path = output_path(args, os.path.join(os.path.dirname(args.results),
                                              "memray-stats-%s.json" % name))
        with open(path, "w") as f:
            json.dump(data, f, indent=2)
        print("Wrote %s" % path)
    else:
        print("📏 Total allocations:\n\t%d\n\n📦 Total memory allocated:\n\t%d B\n"
              % (count, total))


def cmd_flamegraph(args, parser):
    _, snap, _ = read_capture(args.results)
    name = os.path.basename(args.results)
    if name.endswith(".bin"):
        name = name[:-4]
    path = output_path(args, os.path.join(os.path.dirname(args.results),
                                          "memray-flamegraph-%s.html" % name))
    rows = []
    for a in sorted(snap["allocations"], key=lambda a: -a["size"])[:200]:
        rows.append("<tr><td>%d</td><td>%s</td></tr>" % (
            a["size"], html.escape(" → ".join(frame_name(fr) for fr in a["stack"]))))
    with open(path, "w") as f:
        f.write("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>memray - "
                "flamegraph report</title></head><body><h1>memray flamegraph (stand-in)"
                "</h1><p>peak memory %d B</p><table>%s</table></body></html>\n"
                % (snap["peak"], "".join(rows)))
    print("Wrote %s" % path)


def cmd_summary(args, parser):
    header, snap, complete = read_capture(args.results)
    by_loc = {}
    for a in snap["allocations"]:
        loc = location(a["stack"])
        size, count = by_loc.get(loc, (0, 0))
        by_loc[loc] = (size + a["size"], count + a["count"])
    total = sum(s for s, _ in by_loc.values()) or 1
    print("%-60s %14s %8s %12s" % ("Location", "Total Memory", "Total %", "Allocations"))
    for loc, (size, count) in sorted(by_loc.items(), key=lambda kv: -kv[1][0])[:args.max_rows
                                                                             or None]:
        print("%-60s %12d B %7.2f%% %12d" % (loc[-60:], size, 100.0 * size / total, count))
    if not complete:
        print("(the capture was cut short: the tracked process was killed)")


# --- command line ----------------------------------------------------------------------


def build_parser():
    parser = argparse.ArgumentParser(prog="memray", description="Memory profiler for Python "
                                     "applications\n\nRun `memray run --help` for "
                                     "information on how to run a script with memray.")
    parser.add_argument("-v", "--verbose", action="count", default=0)
    parser.add_argument("-V", "--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="Run the specified application and track memory usage")
    run.usage = "%(prog)s [-m module | -c cmd | file] [args]"
    out = run.add_mutually_exclusive_group()
    out.add_argument("-o", "--output")
    out.add_argument("--live", action="store_true", dest="live_mode", default=False)
    out.add_argument("--live-remote", action="store_true", dest="live_remote_mode",
                     default=False)
    run.add_argument("--live-port", "-p", default=None, type=int)
    run.add_argument("--aggregate", action="store_true", default=False)
    run.add_argument("--native", action="store_true", dest="native", default=False)
    run.add_argument("--follow-fork", action="store_true", default=False)
    run.add_argument("--trace-python-allocators", action="store_true", default=False)
    run.add_argument("-q", "--quiet", action="store_true")
    run.add_argument("-f", "--force", action="store_true", default=False)
    comp = run.add_mutually_exclusive_group()
    comp.add_argument("--compress-on-exit", default=True, action="store_true")
    comp.add_argument("--no-compress", default=False, action="store_true")
    run.add_argument("-c", action="store_true", dest="run_as_cmd", default=False)
    run.add_argument("-m", action="store_true", dest="run_as_module",
                     help="Run library module as a script (terminates option list)")
    run.add_argument("script", help=argparse.SUPPRESS, metavar="file")
    run.add_argument("script_args", help=argparse.SUPPRESS, nargs=argparse.REMAINDER,
                     metavar="module")
    run.set_defaults(func=cmd_run)

    att = sub.add_parser("attach", help="Begin tracking allocations in an already-started "
                         "process")
    att.add_argument("-o", "--output", metavar="FILE")
    att.add_argument("-f", "--force", action="store_true", default=False)
    att.add_argument("--aggregate", action="store_true", default=False)
    att.add_argument("--native", action="store_true", dest="native", default=False)
    att.add_argument("--follow-fork", action="store_true", default=False)
    att.add_argument("--trace-python-allocators", action="store_true", default=False)
    comp = att.add_mutually_exclusive_group()
    comp.add_argument("--compress-on-exit", default=True, action="store_true")
    comp.add_argument("--no-compress", default=False, action="store_true")
    att.add_argument("--duration", type=int)
    att.add_argument("--method", type=str, default="auto", choices=["auto", "gdb", "lldb"])
    att.add_argument("-v", "--verbose", action="store_true")
    att.add_argument("pid", type=int)
    att.set_defaults(func=cmd_attach)

    det = sub.add_parser("detach", help="End the tracking started by a previous `memray "
                         "attach` call")
    det.add_argument("--method", type=str, default="auto", choices=["auto", "gdb", "lldb"])
    det.add_argument("-v", "--verbose", action="store_true")
    det.add_argument("pid", type=int)
    det.set_defaults(func=cmd_detach)

    st = sub.add_parser("stats", help="Generate high level stats of the memory usage")
    st.add_argument("-n", "--num-largest", type=int, default=5)
    st.add_argument("-a", "--include-all-allocations", action="store_true")
    st.add_argument("--json", action="store_true")
    st.add_argument("-o", "--output")
    st.add_argument("-f", "--force", action="store_true")
    st.add_argument("results")
    st.set_defaults(func=cmd_stats)

    fg = sub.add_parser("flamegraph", help="Generate an HTML flame graph for peak memory "
                        "usage")
    fg.add_argument("-o", "--output")
    fg.add_argument("-f", "--force", action="store_true", default=False)
    fg.add_argument("--leaks", action="store_true", default=False)
    fg.add_argument("--temporal", action="store_true", default=False)
    fg.add_argument("--split-threads", action="store_true", default=False)
    fg.add_argument("--inverted", action="store_true", default=False)
    fg.add_argument("--no-web", action="store_true", default=False)
    fg.add_argument("--max-memory-records", type=int, default=None)
    fg.add_argument("results")
    fg.set_defaults(func=cmd_flamegraph)

    sm = sub.add_parser("summary", help="Generate a terminal-based summary report of the "
                        "functions that allocate most memory")
    sm.add_argument("-s", "--sort-column", type=int, default=1)
    sm.add_argument("-r", "--max-rows", type=int, default=None)
    sm.add_argument("results")
    sm.set_defaults(func=cmd_summary)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        args.func(args, parser)
    except CommandError as e:
        print(e, file=sys.stderr)
        return e.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
