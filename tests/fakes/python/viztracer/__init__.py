"""Stand-in for VizTracer 1.1.1 (gaogaotiantian/viztracer), which cannot be installed on
these machines (no PyPI). Run as `python -m viztracer` from an interpreter that has it in
its site-packages (the tests link this folder and its .dist-info into a venv's, as an
installation would).

Reproduced from viztracer 1.1.1 (src/viztracer/main.py, viztracer.py, snaptrace.c) for
what sctprof relies on:

  * the command line: options before the program, then `--` (or --run) and the program
    with its arguments, or -m MODULE ARGS, or -c CODE; `--version` prints "1.1.1";
    -o/--output_file must end in .json, .html or .gz ("Only html, json and gz are
    supported", exit 1); --tracer_entries N (default 1000000), --quiet, --min_duration
    (e.g. 0.3ms, 13us), --max_stack_depth, --ignore_c_function, --ignore_frozen,
    --include_files/--exclude_files, --log_gc, --log_print, --log_func_args,
    --log_func_retval, --minimize_memory, --dump_raw, --pid_suffix,
    --ignore_multiprocess, --output_dir, -u/--unique_output_file; argparse's errors
    (exit 2) for anything else;
  * a circular buffer of --tracer_entries entries: when more were recorded, the oldest
    are gone, "Circular buffer is full, you lost some early data, but you still have the
    most recent data." is printed and viztracer_metadata.overflow is true in the saved
    trace (VizTracer.parse());
  * the file: Chrome Trace Event JSON {"traceEvents": [...], "viztracer_metadata":
    {"version", "overflow"}, "file_info": {...}} with complete ("ph": "X") events named
    "function (file:line)"; gzip for .gz;
  * signals and exit codes (main.py run_code, VizTracer.register_exit): SIGTERM runs
    sys.exit(0) in the program (the trace is saved, the status becomes 0); SIGINT raises
    KeyboardInterrupt, and the trace is saved on the way out; the program's own
    SystemExit code is kept.

What it does not reproduce: following subprocesses and multiprocessing children (the
real one patches them and merges their traces), and its C tracer's speed. It traces
with sys.setprofile in every thread.
"""

__version__ = "1.1.1"
