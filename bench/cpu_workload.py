"""About a second of pure-Python CPU work in one thread, for bench/run-overhead: calls,
dictionaries, sorting and string building, the mix a test framework spends its time in."""

import sys


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def tables(n):
    d = {}
    for i in range(n):
        d["key-%d" % i] = [i, str(i), i * 2.5]
    return sorted(d.items(), key=lambda kv: kv[1][2], reverse=True)


def render(rows):
    return "\n".join("%s=%s" % (k, v[1]) for k, v in rows[:1000])


def main(scale):
    total = 0
    for _ in range(scale):
        total += fib(20)
        total += len(render(tables(20000)))
    return total


if __name__ == "__main__":
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else 12))
