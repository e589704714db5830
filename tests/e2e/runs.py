"""Helpers shared by the end-to-end tests of `sctprof run`: starting it in the
background, waiting for a test program to reach a point, finding run folders and
bundles, reading profiles with the real pstats, and running sctprof under a pty.

Waits here are hang guards only (generous, never asserted on): the machines are shared."""

import hashlib
import json
import os
import select
import signal
import subprocess
import time

from conftest import PY, SCTPROF, clean_env

HANG = 60  # seconds: a guard against hangs, never a timing assertion


def start(args, env=None, cwd=None, **kw):
    """sctprof in the background, stdin closed (never the terminal pytest runs on)."""
    kw.setdefault("stdin", subprocess.DEVNULL)
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    return subprocess.Popen([SCTPROF] + list(args), env=env or clean_env(), cwd=cwd,
                            text=True, **kw)


def finish(proc, timeout=HANG):
    """Waits for a start()ed sctprof; returns (status, stdout, stderr)."""
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError("sctprof hung\nstdout:\n%s\nstderr:\n%s" % (out, err))
    return proc.returncode, out, err


def wait_for_file(path, proc=None, timeout=HANG):
    """Until path exists; fails early when proc ended without creating it."""
    deadline = time.monotonic() + timeout
    while not os.path.exists(path):
        if proc is not None and proc.poll() is not None:
            out, err = proc.communicate()
            raise AssertionError("sctprof exited %d before %s appeared\nstdout:\n%s\nstderr:\n%s"
                                 % (proc.returncode, path, out, err))
        if time.monotonic() > deadline:
            raise AssertionError("%s did not appear" % path)
        time.sleep(0.02)


def run_dirs(out):
    """The run folders under OUTDIR, sorted."""
    return sorted(os.path.join(out, d) for d in os.listdir(out)
                  if os.path.isdir(os.path.join(out, d)) and not os.path.islink(os.path.join(out, d)))


def only_run(out):
    """The one run folder in OUTDIR and its manifest (None when it has none)."""
    dirs = run_dirs(out)
    assert len(dirs) == 1, "expected one run folder in %s, found %s" % (out, dirs)
    m = os.path.join(dirs[0], "manifest.json")
    manifest = None
    if os.path.exists(m):
        with open(m) as f:
            manifest = json.load(f)
    return dirs[0], manifest


def bundles(out):
    return sorted(os.path.join(out, f) for f in os.listdir(out)
                  if f.endswith((".tar.zst", ".tar.gz", ".zip")))


def stats_loads(path):
    """True when the real pstats reads path."""
    p = subprocess.run([PY, "-c", "import pstats,sys; pstats.Stats(sys.argv[1])", path],
                       capture_output=True, text=True, env=clean_env())
    return p.returncode == 0


def stats_functions(path):
    """The function names in a pstats file, read by the real pstats."""
    p = subprocess.run([PY, "-c", "import json,pstats,sys\n"
                        "s = pstats.Stats(sys.argv[1])\n"
                        "print(json.dumps(sorted({f[2] for f in s.stats})))", path],
                       capture_output=True, text=True, env=clean_env(), check=True)
    return set(json.loads(p.stdout))


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_extracted(folder, run_id, raw="profile.stats", usable=None):
    """An extracted bundle: RUN_ID/manifest.json parses, every artifact's size and
    SHA-256 match the extracted file, the raw profile (profile.stats by default) is
    usable (pstats loads it by default). Returns the manifest."""
    root = os.path.join(folder, run_id)
    with open(os.path.join(root, "manifest.json")) as f:
        m = json.load(f)
    assert m["run_id"] == run_id
    names = {a["name"] for a in m["artifacts"]}
    assert raw in names
    for a in m["artifacts"]:
        p = os.path.join(root, a["name"])
        assert os.path.getsize(p) == a["size"], a["name"]
        assert sha256(p) == a["sha256"], a["name"]
    on_disk = set()
    for d, _, files in os.walk(root):
        for f in files:
            on_disk.add(os.path.relpath(os.path.join(d, f), root))
    assert on_disk == names | {"manifest.json"}
    assert (usable or stats_loads)(os.path.join(root, raw))
    return m


def one_line(stderr):
    """The single line sctprof printed on stderr (failing when there are more)."""
    lines = [l for l in stderr.splitlines() if l.strip()]
    assert len(lines) == 1, "wanted one line on stderr, got:\n" + stderr
    assert lines[0].startswith("sctprof: "), lines[0]
    return lines[0]


def unshare_works(*flags):
    """Whether `unshare FLAGS true` is allowed here (root, no seccomp filter)."""
    try:
        return subprocess.run(["unshare"] + list(flags) + ["true"], capture_output=True,
                              timeout=HANG).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class Pty:
    """sctprof with a pty as its controlling terminal, as in an interactive shell: it is
    the session leader and its group the terminal's foreground group."""

    def __init__(self, args, env=None, cwd=None):
        import pty
        pid, fd = pty.fork()
        if pid == 0:
            try:
                if cwd:
                    os.chdir(cwd)
                os.execve(SCTPROF, [SCTPROF] + list(args), env or clean_env())
            finally:
                os._exit(127)
        self.pid, self.fd, self.data, self.status = pid, fd, b"", None

    def read_until(self, needle, timeout=HANG):
        """Reads the terminal until needle (bytes) has been seen; returns all output."""
        deadline = time.monotonic() + timeout
        while needle not in self.data:
            if time.monotonic() > deadline:
                raise AssertionError("%r not seen on the terminal; got %r" % (needle, self.data))
            if not self._read(0.1) and self.poll() is not None:
                raise AssertionError("sctprof exited %r before %r; got %r"
                                     % (self.status, needle, self.data))
        return self.data

    def _read(self, wait):
        r, _, _ = select.select([self.fd], [], [], wait)
        if not r:
            return False
        try:
            chunk = os.read(self.fd, 65536)
        except OSError:  # EIO: every slave side is closed
            return False
        self.data += chunk
        return bool(chunk)

    def write(self, data):
        os.write(self.fd, data)

    def poll(self):
        if self.status is None:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(st)
        return self.status

    def wait(self, timeout=HANG):
        """Drains the terminal until sctprof exits; returns its exit status."""
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                os.kill(self.pid, signal.SIGKILL)
                raise AssertionError("sctprof hung under a pty; got %r" % self.data)
            self._read(0.05)
        while self._read(0):
            pass
        os.close(self.fd)
        return self.status
