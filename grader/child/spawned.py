"""A child of the portable isolation level (`spawn`): a fresh Python process, not a fork.

Started by `grader.sandbox.spawning.Spawner` as
`python -m grader.child.spawned PORT TOKEN LIMITS_JSON WORKDIR`. It imports what a forked child
inherits from the warm template, connects to the parent on the loopback interface and sends the
token, sets the rlimits it can (none where `resource` does not exist), moves to its private
working directory and serves the submission protocol (`grader.child.serve`). Student code runs only
once it is connected.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import sys
import tempfile


def main(argv: list[str]) -> None:
    port, token, limits, workdir = int(argv[0]), argv[1], json.loads(argv[2]), argv[3]
    sys.path[:] = [p for p in sys.path if p not in ("", ".", os.getcwd())]
    import torch

    torch.set_num_threads(1)
    import grader.child.serve
    from grader.protocol.channel import Channel

    grader.child.serve.prepare()
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(token.encode())
    if importlib.util.find_spec("resource") is not None and sys.platform.startswith("linux"):
        from grader.child import rlimits

        rlimits.apply(limits)
    os.chdir(workdir)
    os.environ["HOME"] = workdir
    tempfile.tempdir = workdir
    grader.child.serve.serve(Channel(sock))


if __name__ == "__main__":
    status = 70
    try:
        main(sys.argv[1:])
        status = 0
    finally:
        sys.stdout.flush()
        os._exit(status)  # as a forked child ends: no atexit hook of the student's runs
