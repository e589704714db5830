"""sctprof's exit-status launcher: run a Python program exactly as `python` would, and
write the status it ends with into a file.

Several profilers lose the program's exit status: py-spy and CPython's profiling.sampling
always exit 0 (they sample a child they started), scalene turns Ctrl-C into 0 and viztracer
turns SIGTERM into 0. sctprof hands such a tool this launcher as "the program"; the
launcher runs the real program in the same interpreter and records how it ended, so
sctprof can exit with the test's own status whatever the tool returns. It changes nothing
the tool or the program can see: every exit path (return, SystemExit, KeyboardInterrupt,
an exception, os._exit) is recorded and then taken unchanged.

The status file holds one line: "running" from start-up until the program ends, then the
exit status (0..255; 128+N for a program that died of signal N). It is replaced
atomically, and only by the launcher's own process, never by a forked child.

  * SIGINT: "130" is recorded as soon as the signal arrives (a profiler may SIGKILL the
    program right after, as py-spy does) and the previous handler runs; if the program
    then catches the KeyboardInterrupt and exits otherwise, that later status wins.
  * SIGTERM, when the program has not installed its own handler: "143" is recorded and
    kept, whatever exit the previous handler (a tool's, such as viztracer's sys.exit(0))
    makes of it, because the program itself did not choose to survive SIGTERM.

Usage (by sctprof only):
  python [interpreter options] launch.py STATUS_FILE (SCRIPT | -m MODULE | -c CODE) [ARG...]
"""

import os
import signal
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))


class _Status:
    def __init__(self, path):
        self.path = path
        self.pid = os.getpid()
        self.sticky = False

    def write(self, text, sticky=False):
        # A forked child (multiprocessing, os.fork) inherits this object: only the
        # process the tool started speaks for the test.
        if os.getpid() != self.pid or self.sticky:
            return
        if sticky:
            self.sticky = True
        tmp = "%s.tmp-%d" % (self.path, self.pid)
        try:
            with open(tmp, "w") as f:
                f.write(text + "\n")
            os.replace(tmp, self.path)
        except OSError:
            pass


def _exit_code(code):
    """What the interpreter makes of SystemExit's code."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    return 1


def _set_path0(mode, target):
    """sys.path as plain Python would start it: the tool put its own entries (and this
    launcher's folder) in front; the program must see its own first entry instead."""
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != _HERE or p == ""]
    if sys.flags.safe_path or getattr(sys.flags, "isolated", 0):
        return
    if mode == "script":
        first = os.path.dirname(os.path.realpath(target))
    elif mode == "module":
        first = os.getcwd()
    else:
        first = ""
    if sys.path[:1] != [first]:
        sys.path.insert(0, first)


def _run(rest):
    import runpy

    if rest[0] == "-m":
        mod = rest[1]
        sys.argv = [mod] + rest[2:]  # run_module replaces argv[0] with the module's path
        _set_path0("module", mod)
        runpy.run_module(mod, run_name="__main__", alter_sys=True)
    elif rest[0] == "-c":
        import types

        sys.argv = ["-c"] + rest[2:]
        _set_path0("code", None)
        main_mod = types.ModuleType("__main__")
        main_mod.__dict__["__builtins__"] = __builtins__
        sys.modules["__main__"] = main_mod
        exec(compile(rest[1], "<string>", "exec"), main_mod.__dict__)
    else:
        sys.argv = list(rest)
        _set_path0("script", rest[0])
        runpy.run_path(rest[0], run_name="__main__")


def _chain(signum, previous):
    """Calls what was installed before us for signum, or does the default action."""
    def handler(sig, frame):
        if callable(previous):
            return previous(sig, frame)
        if previous == signal.SIG_IGN:
            return None
        signal.signal(sig, signal.SIG_DFL)
        os.kill(os.getpid(), sig)
        return None
    return handler


def _install(status):
    prev_int = signal.getsignal(signal.SIGINT)
    prev_term = signal.getsignal(signal.SIGTERM)
    chain_int = _chain(signal.SIGINT, prev_int)
    chain_term = _chain(signal.SIGTERM, prev_term)

    def on_int(sig, frame):
        if prev_int != signal.SIG_IGN:
            status.write("130")
        return chain_int(sig, frame)

    def on_term(sig, frame):
        if prev_term != signal.SIG_IGN:
            status.write("143", sticky=True)
        return chain_term(sig, frame)

    if prev_int is not None:
        signal.signal(signal.SIGINT, on_int)
    if prev_term is not None:
        signal.signal(signal.SIGTERM, on_term)

    real_exit = os._exit

    def _exit(code):
        status.write(str(code & 0xFF if isinstance(code, int) else 1))
        real_exit(code)

    os._exit = _exit


def main():
    if len(sys.argv) < 3 or sys.argv[2] in ("-m", "-c") and len(sys.argv) < 4:
        sys.stderr.write("sctprof launcher: usage: STATUS_FILE "
                         "(SCRIPT | -m MODULE | -c CODE) [ARG...]\n")
        sys.exit(64)
    status = _Status(os.path.abspath(sys.argv[1]))
    rest = sys.argv[2:]
    status.write("running")
    _install(status)
    try:
        _run(rest)
    except SystemExit as e:
        status.write(str(_exit_code(e.code)))
        raise
    except KeyboardInterrupt:
        status.write("130")
        raise
    except BaseException:
        status.write("1")
        raise
    status.write("0")


if __name__ == "__main__":
    main()
