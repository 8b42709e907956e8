"""How much slower a process's first work is after it waited for another process: the cost every
round trip between the grading process and a submission's child pays on top of the message itself.

A child process answers each request after busy-waiting `--busy` milliseconds (standing in for student
code); the parent times `json.loads` of the answer (what it does first with every answer) right
after it wakes, and the same call again once warm. Run with `python benchmarks/wakeup.py`, and with
`taskset -c 0` in front to put both processes on one core, as a pinned batch worker and its
children are.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import time

ANSWER = json.dumps(
    {"id": 1, "seconds": 0.0123, "ok": True, "value": {"$dict": [["a", [1, 2, 3]]]}, "stdout": ""}
).encode()


def measure(busy: float, rounds: int) -> tuple[float, float]:
    """Median seconds of one decode just after waking, and warm."""
    parent, child = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        parent.close()
        for _ in range(rounds):
            child.recv(16)
            started = time.perf_counter()
            while time.perf_counter() - started < busy:
                pass
            child.sendall(ANSWER)
        os._exit(0)
    child.close()
    after_wake, warm = [], []
    for _ in range(rounds):
        parent.sendall(b"go")
        data = parent.recv(4096)
        started = time.perf_counter()
        json.loads(data)
        after_wake.append(time.perf_counter() - started)
        started = time.perf_counter()
        json.loads(data)
        warm.append(time.perf_counter() - started)
    os.waitpid(pid, 0)
    parent.close()
    return statistics.median(after_wake), statistics.median(warm)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--busy", type=float, nargs="+", default=[0.0, 0.5, 2.0, 10.0])
    parser.add_argument("--rounds", type=int, default=400)
    args = parser.parse_args()
    for busy in args.busy:
        after_wake, warm = measure(busy / 1000, args.rounds)
        print(
            f"child busy {busy:5.1f} ms: decode after waking {after_wake * 1e6:6.1f} us, "
            f"warm {warm * 1e6:5.1f} us ({after_wake / warm:4.1f}x)"
        )


if __name__ == "__main__":
    main()
