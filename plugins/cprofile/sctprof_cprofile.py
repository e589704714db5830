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
        """Writes the merged stats to path; returns the pstats.Stats, or None when no
        Python code ran while profiling."""
        import marshal
        import pstats

        with self.lock:
            profs = list(self.profiles)
        stats = None
        for prof in profs:
            # snapshot_stats() reads the profiler without disabling it: disable() would
            # act on the calling thread, not on the thread the profiler belongs to.
            prof.snapshot_stats()
            if not prof.stats:
                continue
            if stats is None:
                stats = pstats.Stats(prof)
            else:
                stats.add(prof)
        tmp = "%s.tmp-%d" % (path, os.getpid())
        try:
            with open(tmp, "wb") as f:
                marshal.dump(stats.stats if stats else {}, f)
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


def write_summary(stats, path, limit=30):
    """summary.txt: the top `limit` functions by cumulative time."""
    with open(path, "w") as f:
        if stats is not None:
            stats.stream = f
            stats.sort_stats("cumulative").print_stats(limit)
        else:
            f.write("no profile data: the program ran no Python code\n")
