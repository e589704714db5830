"""Stand-in for memray's Python API (memray 1.20.0: `memray.Tracker`, documented in
docs/api.rst and the class's docstring; "follow_fork" in docs/run.rst). Only what
sctprof's start-up hook uses: Tracker(file_name, *, follow_fork=...) entered and exited
as a context manager. Instead of a capture file it writes, on __exit__, a JSON record of
how it was called to file_name. Only one tracker may be active at a time, as in memray.
"""

import json
import os

__version__ = "1.20.0+fake"

_active = None


class Tracker:
    def __init__(self, file_name=None, *, destination=None, native_traces=False,
                 memory_interval_ms=10, follow_fork=False, trace_python_allocators=False,
                 file_format=None):
        if file_name is None and destination is None:
            raise TypeError("file_name or destination is required")
        if file_name is not None and os.path.exists(file_name):
            # memray refuses to overwrite a capture file
            raise OSError("Output file %s already exists" % file_name)
        self.file_name = os.fspath(file_name)
        self.follow_fork = follow_fork
        self.calls = ["__init__"]
        self.pid = os.getpid()

    def __enter__(self):
        global _active
        if _active is not None:
            raise RuntimeError("No more than one Tracker instance can be active at the same time")
        _active = self
        self.calls.append("__enter__")
        return self

    def __exit__(self, exc_type, exc, tb):
        global _active
        _active = None
        self.calls.append("__exit__")
        with open(self.file_name, "w") as f:
            json.dump({"fake": "memray", "file_name": self.file_name,
                       "follow_fork": self.follow_fork, "calls": self.calls,
                       "pid": os.getpid()}, f)
        return False
