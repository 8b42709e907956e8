"""The portable isolation level's children (`spawn`, see `isolation`): a fresh Python process per
child instead of a fork of the warm template, for machines where forking is impossible (Windows)
or unsafe after torch started (macOS), and wherever `HW2_GRADER_ISOLATION=spawn` asks for it.

Each child (`grader.child.spawned`) imports torch itself, connects back to a listening socket on
the loopback interface with a one-time token (a socket handed down by descriptor is POSIX only),
and serves the same submission protocol as a forked child. The parent's per-call time limits hold
as they do everywhere: a call that runs too long ends the child. `Sandbox` delegates to this
class at that level; nothing else differs for the code that grades.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from typing import Any

from grader.errors import HarnessError
from grader.sandbox.limits import Limits

CONNECT_SECONDS = 120.0
"""How long a spawned child may take to import torch and connect back."""
KILLED = getattr(signal, "SIGKILL", 9)
"""The status of a child the grader killed (Windows has no SIGKILL; the number is the same)."""


class Spawner:
    """Starts, stops and reaps spawned children; what they print is kept, capped, for staff."""

    def __init__(self, limits: Limits, environment: dict[str, str], tail_bytes: int) -> None:
        self.limits = limits
        self.environment = environment
        self.tail_bytes = tail_bytes
        self.tail = bytearray()
        self.children: dict[int, tuple[subprocess.Popen[bytes], str]] = {}
        self._lock = threading.Lock()

    def versions(self) -> dict[str, Any]:
        import numpy
        import torch

        return {"ready": True, "torch": torch.__version__, "numpy": numpy.__version__}

    def spawn(self) -> tuple[int, socket.socket]:
        """Start a child and wait until it is connected; its pid and the connected socket."""
        token = secrets.token_hex(16)
        workdir = tempfile.mkdtemp(prefix="submission-")
        with socket.create_server(("127.0.0.1", 0)) as listener:
            port = listener.getsockname()[1]
            argv = [
                sys.executable,
                "-s",
                "-B",
                "-m",
                "grader.child.spawned",
                str(port),
                token,
                json.dumps(asdict(self.limits)),
                workdir,
            ]
            try:
                process = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    env={**os.environ, **self.environment},
                    cwd=workdir,
                    **_new_group(),
                )
            except OSError as error:
                shutil.rmtree(workdir, ignore_errors=True)
                raise HarnessError(f"could not start a child: {error}") from error
            threading.Thread(target=self._drain, args=(process,), daemon=True).start()
            with self._lock:
                self.children[process.pid] = (process, workdir)
            try:
                sock = _accept(listener, token, process)
            except HarnessError:
                self.stop(process.pid)
                raise
        return process.pid, sock

    def stop(self, pid: int, grace: float = 0.0) -> tuple[int | None, int | None, bool]:
        """End child `pid` after up to `grace` seconds: (exit code, signal, by the grader)."""
        with self._lock:
            found = self.children.pop(pid, None)
        if found is None:
            return None, KILLED, True
        process, workdir = found
        by_grader = False
        if grace > 0:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=grace)
        if process.poll() is None:
            by_grader = True
            _kill(process)
        code = process.wait()
        shutil.rmtree(workdir, ignore_errors=True)
        if code < 0:
            return None, -code, by_grader
        return code, (KILLED if by_grader else None), by_grader

    def close(self) -> None:
        for pid in list(self.children):
            self.stop(pid)

    def _drain(self, process: subprocess.Popen[bytes]) -> None:
        if process.stdout is None:
            return
        fd = process.stdout.fileno()
        while chunk := os.read(fd, 65536):
            self.tail += chunk
            del self.tail[: -self.tail_bytes]


def _accept(listener: socket.socket, token: str, process: subprocess.Popen[bytes]) -> socket.socket:
    """The child's connection, once it has sent `token` (another local program cannot pose as it)."""
    deadline = time.monotonic() + CONNECT_SECONDS
    listener.settimeout(0.2)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise HarnessError(f"the child ended before it connected (status {process.returncode})")
        try:
            sock, _ = listener.accept()
        except TimeoutError:
            continue
        sock.settimeout(10)
        received = b""
        with contextlib.suppress(OSError):
            while len(received) < len(token):
                chunk = sock.recv(len(token) - len(received))
                if not chunk:
                    break
                received += chunk
        if received == token.encode():
            sock.settimeout(None)
            return sock
        sock.close()
    raise HarnessError(f"the child did not connect within {CONNECT_SECONDS:g} s")


def _new_group() -> dict[str, Any]:
    """Popen's arguments for a child in a process group of its own (what it starts dies with it)."""
    if os.name == "nt":
        return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined,unused-ignore]
    return {"start_new_session": True}


def _kill(process: subprocess.Popen[bytes]) -> None:
    if os.name != "nt":
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        process.kill()
