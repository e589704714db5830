"""Starts a profiler inside a Python process that is already running, for
`sctprof run --inject`. sitecustomize.py (beside this file) imports it only in processes
whose program matches $SCTPROF_INJECT_MATCH.

Environment, set by sctprof:
  SCTPROF_INJECT          the kind: cprofile, memory, timeline or sampling
  SCTPROF_INJECT_DIR      the run folder, where every process writes its own files
  SCTPROF_INJECT_THREADS  all (default) or main, for cprofile

Every process writes its raw file with its pid before the extension, so that many
processes share one run folder (DESIGN.md "Artifacts"):

  kind      tool       started with                                  raw file
  cprofile  cProfile   sctprof_cprofile.Profiles (launcher's own)    profile.PID.stats
  memory    memray     memray.Tracker(path, follow_fork=True)        memray.PID.bin
  timeline  viztracer  viztracer.VizTracer(output_file=path)         trace.PID.json
  sampling  py-spy     py-spy record --pid PID (a child process)     profile.PID.speedscope.json

The file is written when the process exits (normally, by SystemExit or an uncaught
exception, after KeyboardInterrupt from SIGINT) and on SIGTERM, when the program has not
set a SIGTERM handler of its own: the profile is written, then the process dies of SIGTERM
as it would have. For sampling, "written" means py-spy is stopped with SIGINT and waited
for; a process killed outright leaves py-spy to notice and write on its own.

Views (summary.PID.txt, memray-stats.PID.json, ...) are sctprof's to make once the run
ended (lib/inject.c). Each process also leaves a record, .proc-PID, that sctprof reads
into manifest.json and removes: one "key value" line each, then a line "argv" and the command line, its words
separated by NUL bytes.

A process that forks keeps profiling in the child into the child's own file (cprofile;
memray does it itself with follow_fork); a forked child that ends with os._exit()
(multiprocessing's workers do) writes nothing, and timeline and sampling profile only the
process that was started, not its forks.
"""

import atexit
import os
import signal
import sys
import time

# Tool names as in the compatibility matrix and plugins/: sctprof asks that backend
# (plugin->inject_views) for the views of each raw file.
_RAW = {
    "cprofile": ("cprofile", "profile.%d.stats"),
    "memory": ("memray", "memray.%d.bin"),
    "timeline": ("viztracer", "trace.%d.json"),
    "sampling": ("py-spy", "profile.%d.speedscope.json"),
}

_state = None


def _warn(msg):
    try:
        sys.stderr.write("sctprof: pid %d: %s\n" % (os.getpid(), msg))
        sys.stderr.flush()
    except Exception:
        pass


class _State:
    def __init__(self, kind, run_dir):
        self.kind = kind
        self.tool = _RAW[kind][0]
        self.run_dir = run_dir
        self.pid = os.getpid()
        self.finish = None       # writes the profile; set by the kind's starter
        self.done = False
        self.tool_version = None

    def path(self, pattern):
        return os.path.join(self.run_dir, pattern % os.getpid())

    def record(self, argv, program, error=None):
        """.proc-PID: who this process is, for the manifest."""
        lines = [
            ("pid", os.getpid()), ("ppid", os.getppid()), ("kind", self.kind),
            ("tool", self.tool), ("tool_version", self.tool_version),
            ("python", sys.executable),
            ("python_version", "%d.%d.%d" % sys.version_info[:3]),
            ("program", program),
            ("file", os.path.basename(self.path(_RAW[self.kind][1]))),
            ("started", "%.3f" % time.time()), ("error", error),
        ]
        text = "".join("%s %s\n" % (k, str(v).replace("\n", " "))
                       for k, v in lines if v is not None)
        data = text.encode("utf-8", "replace") + b"argv\n" + b"\0".join(
            os.fsencode(w) for w in argv)
        path = self.path(".proc-%d")
        tmp = path + ".tmp-%d" % os.getpid()
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)


def _finish():
    st = _state
    if st is None or st.done or st.finish is None:
        return
    st.done = True
    try:
        st.finish()
    except Exception as e:
        _warn("cannot write the %s profile: %s: %s" % (st.kind, e.__class__.__name__, e))


def _on_sigterm(signum, frame):
    _finish()
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.kill(os.getpid(), signal.SIGTERM)


def _start_cprofile(st, argv, program):
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, os.path.join(os.path.dirname(here), "plugins", "cprofile"))
    try:
        import sctprof_cprofile
    finally:
        del sys.path[0]
    all_threads = os.environ.get("SCTPROF_INJECT_THREADS", "all") != "main"
    st.tool_version = "%d.%d.%d" % sys.version_info[:3]
    box = [sctprof_cprofile.Profiles(all_threads)]

    def finish():
        # summary.PID.txt and profile.PID.svg are made afterwards by sctprof itself.
        box[0].stop()
        box[0].dump(st.path("profile.%d.stats"))

    def forked():
        # The child profiles itself from here on, into its own file. When it execs
        # (subprocess with preexec_fn) none of this outlives the exec.
        box[0].stop()
        box[0] = sctprof_cprofile.Profiles(all_threads)
        st.done = False
        st.pid = os.getpid()
        try:
            st.record(argv, program)
        except OSError:
            pass
        box[0].start()

    st.record(argv, program)
    st.finish = finish
    os.register_at_fork(after_in_child=forked)
    box[0].start()


def _start_memray(st, argv, program):
    import memray

    st.tool_version = getattr(memray, "__version__", None)
    tracker = memray.Tracker(st.path("memray.%d.bin"), follow_fork=True)
    st.record(argv, program)
    tracker.__enter__()
    parent = os.getpid()

    def finish():
        # With follow_fork memray finishes a forked child's file itself.
        if os.getpid() == parent:
            tracker.__exit__(None, None, None)

    st.finish = finish


def _start_viztracer(st, argv, program):
    import viztracer

    st.tool_version = getattr(viztracer, "__version__", None)
    tracer = viztracer.VizTracer(output_file=st.path("trace.%d.json"), verbose=0)
    st.record(argv, program)
    tracer.start()
    parent = os.getpid()

    def finish():
        if os.getpid() == parent:
            tracer.stop()
            tracer.save()

    st.finish = finish


def _allow_ptrace_by_children():
    """Under Yama's ptrace_scope 1 only an ancestor may attach; py-spy is our child."""
    try:
        with open("/proc/sys/kernel/yama/ptrace_scope") as f:
            if f.read().strip() != "1":
                return
        import ctypes

        pr_set_ptracer, pr_set_ptracer_any = 0x59616D61, ctypes.c_ulong(-1)
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_ptracer, pr_set_ptracer_any, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _catches(pid, sig):
    """Whether process pid has a handler for sig (SigCgt of /proc/PID/status)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("SigCgt:"):
                    return bool(int(line.split()[1], 16) >> (sig - 1) & 1)
    except (OSError, ValueError):
        pass
    return False


def _start_pyspy(st, argv, program):
    import shutil
    import subprocess

    search = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    pyspy = shutil.which("py-spy", path=search)
    if pyspy is None:
        raise OSError("py-spy is not installed beside %s nor on PATH" % sys.executable)
    st.record(argv, program)
    _allow_ptrace_by_children()
    with open(st.path("py-spy.%d.log"), "wb") as log:
        proc = subprocess.Popen([pyspy, "record", "--pid", str(os.getpid()), "--format", "speedscope",
                                 "--output", st.path("profile.%d.speedscope.json")],
                                stdin=subprocess.DEVNULL, stdout=log, stderr=log, close_fds=True)
    parent = os.getpid()

    def finish():
        # py-spy writes its file when sampling ends: on SIGINT, or once this process is
        # gone. Stopping it here, while the process still runs, means the file is there
        # before sctprof, which waits for this process, bundles the run. A SIGINT that
        # came before py-spy set its handler would end it without a file: wait for the
        # handler first (it shows in /proc/PID/status), a few seconds at most.
        if os.getpid() != parent or proc.poll() is not None:
            return
        deadline = time.monotonic() + 5
        while not _catches(proc.pid, signal.SIGINT) and proc.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.01)
        if proc.poll() is not None:
            return
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            _warn("py-spy (pid %d) did not finish writing its profile" % proc.pid)

    st.finish = finish


_STARTERS = {
    "cprofile": _start_cprofile,
    "memory": _start_memray,
    "timeline": _start_viztracer,
    "sampling": _start_pyspy,
}


def start(kind, argv, program):
    """Called by sitecustomize.py in a process whose program matched."""
    global _state
    run_dir = os.environ.get("SCTPROF_INJECT_DIR", "")
    if kind not in _STARTERS:
        _warn("SCTPROF_INJECT=%r is not a kind sctprof can start in a process; "
              "not profiled" % kind)
        return
    if not os.path.isdir(run_dir):
        _warn("run folder %r is gone; not profiled" % run_dir)
        return
    st = _state = _State(kind, run_dir)
    try:
        _STARTERS[kind](st, argv, program)
    except Exception as e:
        reason = "%s: %s" % (e.__class__.__name__, e)
        _warn("%s profile not started: %s" % (kind, reason))
        try:
            st.record(argv, program, error=reason)
        except OSError:
            pass
        _state = None
        return
    atexit.register(_finish)
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)
