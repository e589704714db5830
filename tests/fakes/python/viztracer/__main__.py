"""The viztracer stand-in's command line and tracer: see __init__.py."""

import argparse
import atexit
import collections
import gzip
import json
import os
import re
import runpy
import signal
import sys
import threading
import time

from viztracer import __version__


def parse_duration(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s)?", text)
    if not m:
        raise argparse.ArgumentTypeError("invalid duration %r" % text)
    return float(m.group(1)) * {"us": 1, "ms": 1e3, "s": 1e6, None: 1}[m.group(2)]


def build_parser():
    p = argparse.ArgumentParser(prog="python -m viztracer")
    p.add_argument("--version", action="store_true", default=False)
    p.add_argument("-c", "--cmd_string", nargs="?", default=None)
    p.add_argument("--tracer_entries", nargs="?", type=int, default=1000000)
    p.add_argument("--output_file", "-o", nargs="?", default=None)
    p.add_argument("--unique_output_file", "-u", action="store_true", default=False)
    p.add_argument("--output_dir", nargs="?", default=None)
    p.add_argument("--quiet", action="store_true", default=False)
    p.add_argument("--max_stack_depth", nargs="?", type=int, default=-1)
    p.add_argument("--min_duration", nargs="?", type=parse_duration, default=0)
    p.add_argument("--exclude_files", nargs="*", default=None)
    p.add_argument("--include_files", nargs="*", default=None)
    p.add_argument("--ignore_c_function", action="store_true", default=False)
    p.add_argument("--ignore_frozen", action="store_true", default=False)
    p.add_argument("--log_func_retval", action="store_true", default=False)
    p.add_argument("--log_func_args", action="store_true", default=False)
    p.add_argument("--log_print", action="store_true", default=False)
    p.add_argument("--log_gc", action="store_true", default=False)
    p.add_argument("--minimize_memory", action="store_true", default=False)
    p.add_argument("--dump_raw", action="store_true", default=False)
    p.add_argument("--pid_suffix", action="store_true", default=False)
    p.add_argument("--ignore_multiprocess", action="store_true", default=False)
    p.add_argument("--open", action="store_true", default=False)
    p.add_argument("--run", nargs="*", default=[])
    p.add_argument("--module", "-m", nargs="?", default=None)
    p.add_argument("command", nargs=argparse.REMAINDER)
    return p


class Tracer:
    def __init__(self, entries, min_duration_us, max_depth, ignore_c):
        self.events = collections.deque(maxlen=entries)
        self.entries = entries
        self.recorded = 0
        self.min_us = min_duration_us
        self.max_depth = max_depth
        self.ignore_c = ignore_c
        self.local = threading.local()
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.enabled = False
        self.here = os.path.dirname(os.path.abspath(__file__))

    def profile(self, frame, event, arg):
        if not self.enabled:
            return
        stack = getattr(self.local, "stack", None)
        if stack is None:
            stack = self.local.stack = []
        now = time.perf_counter_ns() / 1000.0
        if event == "call" or (event == "c_call" and not self.ignore_c):
            if event == "call":
                code = frame.f_code
                if code.co_filename.startswith(self.here):
                    stack.append(None)
                    return
                name = "%s (%s:%d)" % (code.co_name, code.co_filename, code.co_firstlineno)
            else:
                name = "%s.%s" % (getattr(arg, "__module__", None) or "builtins",
                                  getattr(arg, "__name__", "?"))
            stack.append((name, now))
        elif event in ("return", "c_return", "c_exception") and stack:
            if event != "return" and self.ignore_c:
                return
            top = stack.pop()
            if top is None:
                return
            name, start = top
            dur = now - start
            if dur < self.min_us:
                return
            if self.max_depth >= 0 and len(stack) >= self.max_depth:
                return
            with self.lock:
                self.events.append({"pid": self.pid, "tid": threading.get_ident() & 0xffffff,
                                    "ts": start, "dur": dur, "name": name, "ph": "X",
                                    "cat": "FEE"})
                self.recorded += 1

    def start(self):
        self.enabled = True
        threading.setprofile(self.profile)
        sys.setprofile(self.profile)

    def stop(self):
        self.enabled = False
        sys.setprofile(None)
        threading.setprofile(None)


class Run:
    def __init__(self, options):
        self.options = options
        self.saved = False
        self.exiting = False
        self.tracer = Tracer(options.tracer_entries, options.min_duration,
                             options.max_stack_depth, options.ignore_c_function)

    def say(self, *args):
        if not self.options.quiet:
            print(*args, flush=True)

    def save(self):
        if self.saved:
            return
        self.saved = True
        self.exiting = True
        self.tracer.stop()
        t = self.tracer
        overflow = t.recorded > t.entries
        if overflow:
            self.say("")
            self.say("WARNING: Circular buffer is full, you lost some early data, but you "
                     "still have the most recent data.")
            self.say("    If you need more buffer, use \"viztracer --tracer_entries <size>\"")
            self.say("    Or, you can try the filter options to filter out some data you "
                     "don't need")
            self.say("    use \"viztracer -h\" to check out the filter options")
            self.say("")
        data = {"traceEvents": list(t.events),
                "viztracer_metadata": {"version": __version__, "overflow": overflow},
                "file_info": {"files": {}, "functions": {}}}
        path = self.options.output_file
        self.say("Saving trace to %s ..." % os.path.abspath(path))
        text = json.dumps(data)
        if path.endswith(".gz"):
            with gzip.open(path, "wb") as f:
                f.write(text.encode())
        elif path.endswith(".html"):
            with open(path, "w") as f:
                f.write("<!DOCTYPE html><html><body><script id=\"trace\" type=\"application"
                        "/json\">%s</script></body></html>\n" % text.replace("</", "<\\/"))
        else:
            with open(path, "w") as f:
                f.write(text)
        self.say("Dumping trace data, total entries: %d, estimated json file size: %s"
                 % (len(t.events), len(text)))
        self.say("Report saved.")
        self.say("Use the following command to open the report:")
        self.say("vizviewer %s" % os.path.abspath(path))

    def term_handler(self, sig, frame):
        if not self.exiting:
            sys.exit(0)


def main():
    argv = sys.argv[1:]
    command = None
    for marker in ("--", "--run"):
        if marker in argv:
            i = argv.index(marker)
            argv, command = argv[:i], argv[i + 1:]
            break
    options = build_parser().parse_args(argv)
    if options.version:
        print(__version__)
        return 0
    if command is None:
        command = options.command or options.run
    if options.output_file is None:
        options.output_file = "result.json"
    if not options.output_file.endswith((".json", ".html", ".gz")):
        print("Only html, json and gz are supported")
        return 1
    if options.output_dir:
        os.makedirs(options.output_dir, exist_ok=True)
        options.output_file = os.path.join(options.output_dir, options.output_file)
    options.output_file = os.path.abspath(options.output_file)
    if options.module:
        target = ("module", options.module, command)
    elif options.cmd_string:
        target = ("code", options.cmd_string, command)
    elif command:
        target = ("script", command[0], command[1:])
    else:
        build_parser().print_help()
        return 0
    if target[0] == "script" and not os.path.exists(target[1]):
        print("No such file as %s" % target[1])
        return 1

    run = Run(options)
    signal.signal(signal.SIGTERM, run.term_handler)
    atexit.register(run.save)
    run.tracer.start()
    try:
        if target[0] == "module":
            sys.argv = [target[1]] + list(target[2])
            runpy.run_module(target[1], run_name="__main__", alter_sys=True)
        elif target[0] == "code":
            sys.argv = ["-c"] + list(target[2])
            exec(compile(target[1], "<string>", "exec"), {"__name__": "__main__"})
        else:
            sys.argv = [target[1]] + list(target[2])
            sys.path.insert(0, os.path.dirname(os.path.abspath(target[1])))
            runpy.run_path(target[1], run_name="__main__")
    finally:
        run.save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
