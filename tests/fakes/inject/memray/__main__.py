"""Stand-in for memray's reporters as sctprof runs them on a capture (memray 1.20.0,
src/memray/commands/stats.py and flamegraph.py): `python -m memray stats --json -o OUT
-f CAPTURE` and `python -m memray flamegraph -o OUT -f CAPTURE`. The capture must be one
the stand-in Tracker wrote. stats writes the smallest document in the shape of
`memray stats --json` that sctprof's reader takes (metadata.peak_memory,
total_num_allocations, top_allocations_by_size/_by_count), with made-up numbers;
flamegraph writes an HTML page naming the capture."""

import json
import os
import sys


def main(argv):
    if not argv or argv[0] not in ("stats", "flamegraph"):
        sys.exit("memray (stand-in): only 'stats' and 'flamegraph' are reproduced")
    cmd, args = argv[0], argv[1:]
    out = args[args.index("-o") + 1]
    capture = [a for a in args if a.endswith(".bin")][-1]
    with open(capture) as f:
        rec = json.load(f)  # fails on anything the stand-in Tracker did not write
    if os.path.exists(out) and "-f" not in args:
        sys.exit("memray (stand-in): %s exists; use -f" % out)
    with open(out, "w") as f:
        if cmd == "stats":
            if "--json" not in args:
                sys.exit("memray (stand-in): stats without --json is not reproduced")
            json.dump({"metadata": {"peak_memory": 1048576, "pid": rec["pid"]},
                       "total_num_allocations": 42, "total_memory_allocated": 2097152,
                       "top_allocations_by_size": [{"location": "standin_work at sct.py:4", "size": 1048576}],
                       "top_allocations_by_count": [{"location": "standin_work at sct.py:4", "count": 42}]},
                      f)
        else:
            f.write("<html><body>memray flame graph (stand-in) of %s</body></html>\n" % capture)


main(sys.argv[1:])
