"""Stand-in for viztracer's inline API (viztracer 1.1: `VizTracer(output_file=...,
verbose=...)`, `start()`, `stop()`, `save(output_file=None)`, documented in
docs/source/viztracer.rst). Only what sctprof's start-up hook uses. Instead of a trace it
writes, on save(), a JSON record of how it was called to output_file.
"""

import json
import os

__version__ = "1.1.1+fake"


class VizTracer:
    def __init__(self, tracer_entries=1000000, verbose=1, max_stack_depth=-1,
                 include_files=None, exclude_files=None, ignore_c_function=False,
                 log_print=False, pid_suffix=False, output_file="result.json", **kwargs):
        self.output_file = output_file
        self.verbose = verbose
        self.calls = ["__init__"]
        self.running = False

    def start(self):
        self.calls.append("start")
        self.running = True

    def stop(self):
        if not self.running:
            raise RuntimeError("stop() before start()")
        self.calls.append("stop")
        self.running = False

    def save(self, output_file=None, file_info=None, verbose=None):
        self.calls.append("save")
        with open(output_file or self.output_file, "w") as f:
            json.dump({"fake": "viztracer", "output_file": output_file or self.output_file,
                       "verbose": self.verbose, "calls": self.calls, "pid": os.getpid()}, f)
