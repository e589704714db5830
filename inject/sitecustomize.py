"""sctprof's start-up hook for `sctprof run --inject` (the technique coverage.py uses for
subprocesses). sctprof puts this folder first on PYTHONPATH, so every Python process
started under the command imports this module while the interpreter starts, before the
program's own code runs.

It does as little as it can, because every Python process under the command pays for it,
profiled or not:

  1. it runs the sitecustomize this one shadows (Debian's, a virtualenv's), so the
     environment stays what it was;
  2. it takes its own folder out of sys.path, so the program imports what it would
     without sctprof;
  3. only when $SCTPROF_INJECT names a kind and the program this process runs matches
     $SCTPROF_INJECT_MATCH, it imports sctprof_inject, which starts the profiler.

Nothing here may stop the program: a failure is one line on stderr.
"""

import os
import sys

# Interpreter options that take a value (python --help); -c and -m end the options.
_SCTPROF_OPTS_WITH_VALUE = "WX"


def _sctprof_argv():
    """The command line as the kernel has it: sys.argv is not complete yet."""
    try:
        with open("/proc/self/cmdline", "rb") as f:
            raw = f.read()
        return [os.fsdecode(w) for w in raw.split(b"\0")[:-1]]
    except OSError:
        return list(getattr(sys, "orig_argv", sys.argv))


def _sctprof_program(argv):
    """What the interpreter runs, as Python's own option parser finds it: the script
    path, the module of -m, "-c" for a code string, "-" for stdin."""
    i = 1
    while i < len(argv):
        w = argv[i]
        if w == "--check-hash-based-pycs":
            i += 2
            continue
        if w == "-" or not w.startswith("-"):
            return w
        if w == "--":
            return argv[i + 1] if i + 1 < len(argv) else "-"
        if w.startswith("--"):
            i += 1
            continue
        j = 1
        while j < len(w):
            c = w[j]
            if c in "cm":
                if c == "c":
                    return "-c"
                rest = w[j + 1:]
                return rest or (argv[i + 1] if i + 1 < len(argv) else "")
            if c in _SCTPROF_OPTS_WITH_VALUE:
                if j + 1 == len(w):
                    i += 1  # the value is the next word
                break
            j += 1
        i += 1
    return "-"


def _sctprof_matches(program, patterns):
    """program against comma-separated glob patterns, by its full text or base name."""
    base = program.rsplit("/", 1)[-1]
    for pat in patterns.split(","):
        pat = pat.strip()
        if not pat:
            continue
        if not any(c in pat for c in "*?["):
            if pat == base or pat == program:
                return True
            continue
        import fnmatch

        if fnmatch.fnmatchcase(base, pat) or fnmatch.fnmatchcase(program, pat):
            return True
    return False


def _sctprof_chain(here):
    """Runs the sitecustomize module that this one shadows, as `site` would have."""
    others = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    import importlib.machinery

    spec = importlib.machinery.PathFinder.find_spec("sitecustomize", others)
    if spec is None or spec.loader is None:
        return
    import importlib.util

    mod = importlib.util.module_from_spec(spec)
    sys.modules["sitecustomize"] = mod
    try:
        spec.loader.exec_module(mod)
    except Exception as e:
        # What site.py itself does with a failing sitecustomize.
        sys.stderr.write("Error in sitecustomize; set PYTHONVERBOSE for traceback:\n"
                         "%s: %s\n" % (e.__class__.__name__, e))


def _sctprof_main():
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != here]
    _sctprof_chain(here)
    kind = os.environ.get("SCTPROF_INJECT")
    if not kind:
        return
    argv = _sctprof_argv()
    program = _sctprof_program(argv)
    if not _sctprof_matches(program, os.environ.get("SCTPROF_INJECT_MATCH", "")):
        return
    sys.path.insert(0, here)
    try:
        import sctprof_inject
    finally:
        del sys.path[0]
    sctprof_inject.start(kind, argv, program)


try:
    _sctprof_main()
except Exception as e:  # never stop the program for the profiler's sake
    try:
        sys.stderr.write("sctprof: start-up hook failed in pid %d: %s: %s\n"
                         % (os.getpid(), e.__class__.__name__, e))
    except Exception:
        pass
