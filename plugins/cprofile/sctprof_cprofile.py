"""What sctprof's cProfile backend shares between its two ways of starting the profiler:
launcher.py (`sctprof run -p cprofile`, the launcher runs the program) and the start-up
hook of `sctprof run --inject` (inject/sctprof_inject.py, the profiler is started inside
a process that is already running).

  * Profiles: every thread (one cProfile.Profile per thread, merged at the end) unless
    all_threads is false; from Python 3.12 cProfile observes the whole interpreter through
    sys.monitoring, so one profiler serves all threads and "main only" cannot narrow it;
  * Profiles.dump(): the stats as a pstats marshal file, written atomically (temporary
    name, fsync, rename), so a reader never sees half a file;
  * write_summary(): summary.txt, the top of the profile by cumulative time.

Imported before profiling starts, with nothing but the standard library, so that it does
not show in the profile as the program's own work.
"""

import marshal
import os
import sys
import threading

import cProfile

MONITORING = sys.version_info >= (3, 12)


class Profiles:
    """One profiler per thread (before 3.12), or one for the interpreter (3.12+)."""

    def __init__(self, all_threads):
        self.all_threads = all_threads
        self.lock = threading.Lock()
        self.profiles = []
        self.main = cProfile.Profile()
        self.profiles.append(self.main)

    def _thread_hook(self, frame, event, arg):
        # Called once in each new thread as its profile function; replace it with a
        # profiler of that thread's own.
        sys.setprofile(None)
        prof = cProfile.Profile()
        with self.lock:
            self.profiles.append(prof)
        prof.enable()

    def start(self):
        if self.all_threads and not MONITORING:
            threading.setprofile(self._thread_hook)
        self.main.enable()

    def stop(self):
        threading.setprofile(None)
        self.main.disable()

    def dump(self, path):
        """Writes the merged stats to path; returns them ({func: (cc, nc, tt, ct,
        callers)}, empty when no Python code ran while profiling)."""
        with self.lock:
            profs = list(self.profiles)
        stats = {}
        for prof in profs:
            # snapshot_stats() reads the profiler without disabling it: disable() would
            # act on the calling thread, not on the thread the profiler belongs to.
            prof.snapshot_stats()
            _merge(stats, prof.stats)
        tmp = "%s.tmp-%d" % (path, os.getpid())
        try:
            with open(tmp, "wb") as f:
                marshal.dump(stats, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        return stats


# pstats is not imported: with its dataclasses, inspect and typing imports it costs tens
# of milliseconds at every exit (bench/run-overhead). What it would do here, merging and
# the top of the table, is a few lines.

def _merge(into, stats):
    """pstats.Stats.add(): {func: (cc, nc, tt, ct, callers)}, callers summed."""
    for func, (cc, nc, tt, ct, callers) in stats.items():
        old = into.get(func)
        if old is None:
            into[func] = (cc, nc, tt, ct, dict(callers))
            continue
        merged = old[4]
        for caller, v in callers.items():
            w = merged.get(caller)
            if w is None:
                merged[caller] = v
            elif isinstance(v, tuple):
                merged[caller] = tuple(a + b for a, b in zip(w, v))
            else:
                merged[caller] = w + v
        into[func] = (old[0] + cc, old[1] + nc, old[2] + tt, old[3] + ct, merged)


def _func_name(func):
    """pstats.func_std_string()."""
    if func[:2] == ("~", 0):
        name = func[2]
        return "{%s}" % name[1:-1] if name.startswith("<") and name.endswith(">") else name
    return "%s:%d(%s)" % func


def write_summary(stats, path, limit=30):
    """summary.txt: the top `limit` functions by cumulative time, as
    pstats.Stats(...).sort_stats("cumulative").print_stats(limit) prints them."""
    with open(path, "w") as f:
        if not stats:
            f.write("no profile data: the program ran no Python code\n")
            return
        total = sum(v[1] for v in stats.values())
        prim = sum(v[0] for v in stats.values())
        tt = sum(v[2] for v in stats.values())
        f.write("         %d function calls " % total)
        if total != prim:
            f.write("(%d primitive calls) " % prim)
        f.write("in %.3f seconds\n\n" % tt)
        funcs = sorted(stats, key=lambda k: stats[k][3], reverse=True)
        f.write("   Ordered by: cumulative time\n")
        if len(funcs) > limit:
            f.write("   List reduced from %d to %d due to restriction <%d>\n"
                    % (len(funcs), limit, limit))
        f.write("\n   ncalls  tottime  percall  cumtime  percall filename:lineno(function)\n")
        for func in funcs[:limit]:
            cc, nc, tt, ct, _ = stats[func]
            calls = str(nc) if nc == cc else "%d/%d" % (nc, cc)
            f.write("%s %8.3f %s %8.3f %s %s\n" % (
                calls.rjust(9), tt, "%8.3f" % (tt / nc) if nc else " " * 8, ct,
                "%8.3f" % (ct / cc) if cc else " " * 8, _func_name(func)))
        f.write("\n\n")
