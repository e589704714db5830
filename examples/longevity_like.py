#!/usr/bin/env python3
"""A small workload shaped like an SCT test, for the demo and the tests.

Like a longevity test it has a main thread that drives the run, worker threads that
stress a (pretend) cluster, one Python subprocess (SCT starts helpers such as log
collectors), some allocations, and about a second of work. It exits with the status
given by --exit (default 0), as a failed test would.
"""

import argparse
import hashlib
import subprocess
import sys
import threading
import time


def stress_worker(n, results):
    """Runs in a worker thread only: hashing stands in for cassandra-stress."""
    digest = b""
    for i in range(n):
        digest = hashlib.sha256(digest + i.to_bytes(8, "little")).digest()
    results.append(digest.hex()[:8])


def build_cluster_state(nodes):
    """Allocations: per-node dictionaries of keyspaces, tables and tokens."""
    return [{"name": "node-%d" % i,
             "tokens": list(range(i * 256, (i + 1) * 256)),
             "keyspaces": {"ks%d" % k: ["t%d" % t for t in range(20)] for k in range(20)}}
            for i in range(nodes)]


def check_cluster_health(state):
    """Runs in the main thread: walks the state as nemesis checks do."""
    total = 0
    for node in state:
        total += sum(node["tokens"]) % 97
        for tables in node["keyspaces"].values():
            total += len(tables)
    return total


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--exit", type=int, default=0, help="exit status to end with")
    p.add_argument("--seconds", type=float, default=1.0, help="roughly how long to work")
    args = p.parse_args()

    scale = max(args.seconds, 0.05)
    results = []
    workers = [threading.Thread(target=stress_worker, args=(int(40000 * scale), results),
                                name="stress-%d" % i) for i in range(3)]
    for w in workers:
        w.start()
    # One Python subprocess, as SCT's log collectors are.
    helper = subprocess.Popen([sys.executable, "-c",
                               "import time; time.sleep(0.05); print('collector done')"])
    state = build_cluster_state(int(60 * scale) + 1)
    health = 0
    deadline = time.monotonic() + 0.3 * scale
    while time.monotonic() < deadline:
        health += check_cluster_health(state)
        fib(18)
    for w in workers:
        w.join()
    helper.wait()
    print("longevity-like test: %d workers, health %d, exit %d" % (len(results), health, args.exit))
    return args.exit


if __name__ == "__main__":
    sys.exit(main())
