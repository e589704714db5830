"""sctprof's cProfile launcher: run a Python program exactly as `python` would, profiled.

Why not `python -m cProfile`: it swallows SystemExit (a failing test exits 0), it sees
only the main thread, and it writes nothing on SIGTERM. This launcher

  * keeps sys.argv, __main__ and sys.path[0] as plain Python sets them for a script,
    `-m module` or `-c code`;
  * profiles every thread (one cProfile.Profile per thread, merged at the end) unless
    --threads=main; from Python 3.12 cProfile observes the whole interpreter through
    sys.monitoring, so one profiler serves all threads and --threads=main cannot narrow it;
  * writes the stats (pstats marshal) on normal exit, SystemExit, an uncaught exception,
    SIGINT and SIGTERM, atomically (temporary name, then rename);
  * exits with the program's own status, or dies of the signal that stopped it.

Usage (by sctprof only):
  python [interpreter options] launcher.py --output FILE [--threads all|main]
         [--summary FILE] -- (SCRIPT | -m MODULE | -c CODE) [ARG...]
"""

import importlib.machinery
import io
import os
import signal
import sys
import threading
import types

import runpy  # imported before profiling starts, so that it does not show as the
              # program's own work (pkgutil too, when run_path needs it: see main())

# The profiler itself is shared with `sctprof run --inject` (sctprof_cprofile.py beside
# this file). Found by this file's own folder: sys.path[0] is not it under -P or -I.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import sctprof_cprofile
finally:
    del sys.path[0]


class _Terminated(BaseException):
    """Raised in the main thread by the SIGTERM handler, so finally blocks run."""


def _parse(argv):
    opts = {"output": None, "threads": "all", "summary": None}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a == "--":
            i += 1
            break
        key = a[2:].split("=", 1)[0]
        if key not in opts:
            sys.exit("sctprof launcher: unknown option %r" % a)
        if "=" in a:
            opts[key] = a.split("=", 1)[1]
        else:
            i += 1
            opts[key] = argv[i]
        i += 1
    rest = argv[i:]
    if not opts["output"] or not rest:
        sys.exit("sctprof launcher: usage: --output FILE -- PROGRAM [ARG...]")
    return opts, rest


def _set_path0(mode, target):
    """sys.path[0] as plain Python would set it, replacing the launcher's folder."""
    if sys.flags.safe_path:
        if sys.path and sys.path[0] == os.path.dirname(os.path.abspath(__file__)):
            del sys.path[0]
        return
    if mode == "script":
        first = os.path.dirname(os.path.realpath(target))
    elif mode == "module":
        first = os.getcwd()
    else:
        first = ""
    if sys.path:
        sys.path[0] = first
    else:
        sys.path.insert(0, first)


def _run(rest):
    if rest[0] == "-m":
        mod = rest[1]
        sys.argv = [mod] + rest[2:]  # runpy replaces argv[0] with the module's path
        _set_path0("module", mod)
        runpy.run_module(mod, run_name="__main__", alter_sys=True)
    elif rest[0] == "-c":
        sys.argv = ["-c"] + rest[2:]
        _set_path0("code", None)
        main_mod = types.ModuleType("__main__")
        main_mod.__dict__["__builtins__"] = __builtins__
        sys.modules["__main__"] = main_mod
        exec(compile(rest[1], "<string>", "exec"), main_mod.__dict__)
    else:
        script = rest[0]
        sys.argv = list(rest)
        _set_path0("script", script)
        if _plain_source(script):
            _run_source(script)
        else:
            runpy.run_path(script, run_name="__main__")


def _plain_source(script):
    """A source file, run as such; a folder, zip or .pyc goes through runpy.run_path."""
    return os.path.isfile(script) and not script.endswith((".pyc", ".pyz", ".zip"))


def _run_source(script):
    """A source file as `python script.py` runs it: sys.argv[0] as given, while
    __main__.__file__ and the code's file name are made absolute by joining the working
    directory without normalising ("/cwd/./sct.py"). runpy.run_path would put its
    argument into both."""
    path = script if os.path.isabs(script) else os.path.join(os.getcwd(), script)
    with io.open_code(path) as f:
        code = compile(f.read(), path, "exec", dont_inherit=True)
    main_mod = types.ModuleType("__main__")
    main_mod.__dict__.update({
        "__file__": path,
        "__cached__": None,
        "__package__": None,
        "__spec__": None,
        "__loader__": importlib.machinery.SourceFileLoader("__main__", path),
        "__builtins__": __builtins__,
    })
    sys.modules["__main__"] = main_mod
    exec(code, main_mod.__dict__)


def _exit_code(code):
    """What the interpreter does with SystemExit's code."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        sys.stderr.write(str(code) + "\n")
    except Exception:
        pass
    return 1


def _on_sigterm(signum, frame):
    raise _Terminated()


def main():
    opts, rest = _parse(sys.argv[1:])
    output = os.path.abspath(opts["output"])
    summary = os.path.abspath(opts["summary"]) if opts["summary"] else None
    pid = os.getpid()
    if opts["threads"] == "main" and sctprof_cprofile.MONITORING:
        sys.stderr.write("sctprof: warning: from Python 3.12 cProfile observes every "
                         "thread; --threads=main cannot narrow it\n")
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)

    if rest[0] not in ("-m", "-c") and not _plain_source(rest[0]):
        import pkgutil  # noqa: F401  runpy.run_path imports it; not the program's work

    profiles = sctprof_cprofile.Profiles(opts["threads"] != "main")
    status, die_of = 0, None
    profiles.start()
    try:
        _run(rest)
    except SystemExit as e:
        status = _exit_code(e.code)
    except KeyboardInterrupt:
        die_of = signal.SIGINT
    except _Terminated:
        die_of = signal.SIGTERM
    except BaseException:
        profiles.stop()
        sys.excepthook(*sys.exc_info())
        status = 1
    finally:
        profiles.stop()

    if os.getpid() != pid:
        # A forked child that returned here (os.fork() then sys.exit()): its parent owns
        # the profile file.
        os._exit(status)
    if die_of is None:
        # Let non-daemon threads finish first, as the interpreter would, so that their
        # profiles are complete.
        shutdown = getattr(threading, "_shutdown", None)
        if shutdown:
            try:
                shutdown()
            except BaseException:
                pass
    try:
        stats = profiles.dump(output)
        if summary:
            sctprof_cprofile.write_summary(stats, summary)
    except OSError as e:
        sys.stderr.write("sctprof: cannot write profile %r: %s\n" % (output, e.strerror))
        if status == 0 and die_of is None:
            status = 74
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    if die_of is not None:
        signal.signal(die_of, signal.SIG_DFL)
        os.kill(os.getpid(), die_of)
    sys.exit(status)


if __name__ == "__main__":
    main()
