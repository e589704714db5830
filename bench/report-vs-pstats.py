#!/usr/bin/python3
"""Benchmark: `sctprof report --top 30` against Python's pstats on the same file, and
`sctprof diff` of two such files.

Generates (in a temporary folder, never committed) a Python program with many distinct
functions calling each other, profiles it twice with /usr/bin/python3 -m cProfile until
the pstats file is at least --min-mb megabytes, then runs, alternating, N times each:

  sctprof report --top 30 FILE
  /usr/bin/python3 -c "import pstats,sys; pstats.Stats(sys.argv[1]).sort_stats('cumulative').print_stats(30)" FILE
  sctprof diff FILE FILE2

and prints the medians and the ratio. Usage: bench/report-vs-pstats.py [--runs N]
[--min-mb 50] [--sctprof build/cmd/sctprof]."""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

PY = "/usr/bin/python3"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PSTATS = "import pstats,sys; pstats.Stats(sys.argv[1]).sort_stats('cumulative').print_stats(30)"


def generate(folder, n_funcs, n_modules, seed):
    """n_funcs functions over n_modules modules; each calls three others (a call graph
    with many caller edges, as a long SCT run has)."""
    per = n_funcs // n_modules
    for m in range(n_modules):
        with open(os.path.join(folder, "mod%d.py" % m), "w") as f:
            f.write("import sys\nM = sys.modules\n")
            for i in range(per):
                g = m * per + i
                f.write("def f%d(d):\n    if d <= 0:\n        return %d\n" % (g, seed))
                for k in (1, 7, 31):
                    c = (g * k + 13) % n_funcs
                    f.write("    M['mod%d'].f%d(d - 1)\n" % (c // per, c))
                f.write("    return 0\n")
    with open(os.path.join(folder, "main.py"), "w") as f:
        f.write("import sys\nsys.path.insert(0, %r)\nsys.setrecursionlimit(10000)\n" % folder)
        f.write("".join("import mod%d\n" % m for m in range(n_modules)))
        f.write("for i in range(0, %d, 1):\n    getattr(sys.modules['mod%%d' %% (i // %d)], 'f%%d' %% i)(2)\n"
                % (n_funcs, per))


def profile(folder, out):
    subprocess.run([PY, "-m", "cProfile", "-o", out, os.path.join(folder, "main.py")], check=True,
                   stdout=subprocess.DEVNULL)
    return os.path.getsize(out)


def timed(argv, ok=(0,)):
    t = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t
    if p.returncode not in ok:
        sys.exit("%s failed (%d): %s" % (argv[0], p.returncode, p.stderr.decode()[-300:]))
    return dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--min-mb", type=float, default=50)
    ap.add_argument("--sctprof", default=os.path.join(ROOT, "build", "cmd", "sctprof"))
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="sctprof-bench-") as tmp:
        n = 40000
        while True:
            src1, src2 = os.path.join(tmp, "a%d" % n), os.path.join(tmp, "b%d" % n)
            os.mkdir(src1)
            os.mkdir(src2)
            generate(src1, n, 200, 1)
            generate(src2, n, 200, 2)
            f1, f2 = os.path.join(tmp, "a.stats"), os.path.join(tmp, "b.stats")
            size = profile(src1, f1)
            if size >= a.min_mb * 1e6:
                profile(src2, f2)
                break
            print("%d functions gave %.1f MB; more" % (n, size / 1e6), file=sys.stderr)
            n = (int(n * a.min_mb * 1e6 / size * 1.1) // 200 + 1) * 200
        print("pstats file: %.1f MB, %d generated functions" % (size / 1e6, n))
        rep, py, dif = [], [], []
        for _ in range(a.runs):
            rep.append(timed([a.sctprof, "report", "--top", "30", f1]))
            py.append(timed([PY, "-c", PSTATS, f1]))
            dif.append(timed([a.sctprof, "diff", f1, f2], ok=(0, 1)))
        mr, mp, md = statistics.median(rep), statistics.median(py), statistics.median(dif)
        print("sctprof report --top 30: median %.3f s (%d runs)" % (mr, a.runs))
        print("python pstats print_stats(30): median %.3f s" % mp)
        print("ratio: sctprof is %.1fx faster (target >= 5x)" % (mp / mr))
        print("sctprof diff of two files: median %.3f s (target <= 1 s)" % md)


if __name__ == "__main__":
    main()
