"""The parent's side of the sandbox: one warm template process, and a child forked from it per submission.

`Sandbox.start()` launches `grader.child.template` inside the isolation in force (see `isolation`) and
waits until it has imported torch (`launch()` does not wait: the first `spawn()` does). `spawn()`
then hands out a child (the template forks each one before it is asked for) and returns a socket
connected to it; `stop()` ends a child (waiting a grace period, then killing its process group) and
says how it ended. What the template and children print to their file descriptors is kept, capped,
for staff (`output_tail`), and never parsed. Student code never runs in this process.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from grader.errors import HarnessError
from grader.sandbox import isolation as isolation_levels
from grader.sandbox.isolation import Isolation
from grader.sandbox.limits import Limits
from grader.sandbox.spawning import Spawner

OUTPUT_TAIL_BYTES = 64 * 1024
START_SECONDS = 180.0
SPAWN_SECONDS = 30.0
"""How long a warm template may take to hand out a child (or to stop one) before it is replaced."""


@dataclass(frozen=True)
class ExitStatus:
    """How a child ended: its exit code or the signal that ended it, and whether we sent that signal."""

    exitcode: int | None = None
    signal: int | None = None
    by_grader: bool = False

    def describe(self) -> str:
        if self.signal is not None:
            if self.by_grader:
                return "it was stopped by the grader"
            if self.signal == signal.SIGKILL:
                return "it was killed (signal 9), most likely for using too much memory"
            if self.signal == signal.SIGSEGV:
                return "it crashed with a segmentation fault (signal 11)"
            name = signal.Signals(self.signal).name if self.signal in signal.valid_signals() else ""
            return f"it was ended by signal {self.signal} {name}".rstrip()
        if self.exitcode == 0:
            return "your code ended the process with exit status 0 (sys.exit() or os._exit())"
        return f"your code ended the process with exit status {self.exitcode}"


class Sandbox:
    """A warm template process from which submission children are forked."""

    def __init__(self, limits: Limits | None = None, isolation: Isolation | None = None) -> None:
        self.limits = limits or Limits()
        self.isolation = isolation or isolation_levels.detect(isolation_levels.preferred())
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._control: socket.socket | None = None
        self._tail = bytearray()
        self._workdir: tempfile.TemporaryDirectory[str] | None = None
        self.versions: dict[str, Any] = {}
        self._spawner: Spawner | None = None
        if self.isolation.mode == "spawn":
            self._spawner = Spawner(self.limits, _environment(), OUTPUT_TAIL_BYTES)

    def describe(self) -> str:
        return f"{self.isolation.describe()}; {self.limits.describe()}"

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Launch the template and wait until it is warm."""
        self.launch()
        self._await_ready()

    def launch(self) -> None:
        """Launch the template without waiting for it: it imports torch, which is slow, while this
        process goes on (importing torch itself and collecting the checks); `start` or the first
        `spawn` waits for it."""
        if self._spawner is not None:  # no template: each child starts on its own
            self.versions = self._spawner.versions()
            return
        if self._process is not None and self._process.poll() is None:
            return
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._workdir = tempfile.TemporaryDirectory(prefix="hw2-sandbox-")
        argv = [
            sys.executable,
            "-s",
            "-B",
            "-m",
            "grader.child.template",
            str(theirs.fileno()),
            json.dumps(asdict(self.limits)),
            "1" if self.isolation.drop_to_nobody else "0",
            "1" if self.isolation.own_pid_namespace else "0",
            "1" if self.isolation.mode == "bubblewrap" else "0",
        ]
        try:
            self._process = subprocess.Popen(
                isolation_levels.command(self.isolation, argv),
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=_environment(),
                cwd=self._workdir.name,
                start_new_session=True,
            )
        except OSError as error:
            raise HarnessError(f"could not start the sandbox: {error}") from error
        finally:
            theirs.close()
        self._control = ours
        self.versions = {}
        threading.Thread(target=self._drain, daemon=True).start()

    def _await_ready(self) -> None:
        if self.versions.get("ready"):
            return
        self.versions = self._receive(START_SECONDS)
        if not self.versions.get("ready"):
            raise HarnessError(f"the sandbox did not start: {self.output_tail()}")

    def spawn(self) -> tuple[int, socket.socket]:
        """Fork a fresh child; returns its pid and a socket connected to it.

        A template that does not answer (stopped, or killed, by a child that could signal it: one
        sharing its user) is replaced by a fresh one, once, so that the next student is not
        graded by a template the last one broke."""
        if self._spawner is not None:
            return self._spawner.spawn()
        with self._lock:
            self._ensure_running()
            try:
                reply, fds = self._ask_for_a_child()
            except (HarnessError, OSError):
                self.close()
                self._ensure_running()
                reply, fds = self._ask_for_a_child()
        if "pid" not in reply or len(fds) != 1:
            for fd in fds:
                os.close(fd)
            raise HarnessError(f"the sandbox could not fork a child: {reply}")
        return int(reply["pid"]), socket.socket(fileno=fds[0])

    def _ask_for_a_child(self) -> tuple[dict[str, Any], list[int]]:
        assert self._control is not None
        self._control.send(b'{"op": "spawn"}')
        return self._receive_with_fds(SPAWN_SECONDS)

    def stop(self, pid: int, grace: float = 0.0, *, wait: bool = True) -> ExitStatus:
        """End the child `pid` (after up to `grace` seconds for it to exit by itself).

        `wait=False` kills it without waiting for it to exit, or for the template's answer (for a
        child that is no longer needed): the status returned is then only "killed by the grader"."""
        if self._spawner is not None:
            return ExitStatus(*self._spawner.stop(pid, grace if wait else 0.0))
        with self._lock:
            if self._control is None or self._process is None or self._process.poll() is not None:
                return ExitStatus(signal=signal.SIGKILL, by_grader=True)
            try:
                self._control.send(
                    json.dumps({"op": "stop", "pid": pid, "grace": grace, "wait": wait}).encode()
                )
                if not wait:  # the template answers a release with nothing
                    return ExitStatus(signal=signal.SIGKILL, by_grader=True)
                reply = self._receive(SPAWN_SECONDS)
            except (HarnessError, OSError):
                # Stopped or killed by a child that shares its user: the template, and every
                # child of it, goes; the next spawn starts a fresh one.
                self.close()
                return ExitStatus(signal=signal.SIGKILL, by_grader=True)
        status = reply.get("status", {})
        return ExitStatus(
            status.get("exitcode"), status.get("signal"), bool(status.get("by_grader"))
        )

    def output_tail(self) -> str:
        """The last bytes the template and children wrote to stdout and stderr (for staff only)."""
        tail = self._spawner.tail if self._spawner is not None else self._tail
        return tail.decode("utf-8", errors="replace")

    def close(self) -> None:
        self.versions = {}
        if self._spawner is not None:
            self._spawner.close()
        if self._control is not None:
            self._control.close()
            self._control = None
        if self._process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._process.pid, signal.SIGKILL)
            self._process.wait()
            self._process = None
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def _ensure_running(self) -> None:
        if self._spawner is not None:
            return
        if self._process is None or self._process.poll() is not None:
            self.close()
        self.start()

    def _receive(self, timeout: float) -> dict[str, Any]:
        reply, fds = self._receive_with_fds(timeout)
        for fd in fds:
            os.close(fd)
        return reply

    def _receive_with_fds(self, timeout: float) -> tuple[dict[str, Any], list[int]]:
        assert self._control is not None
        ready, _, _ = select.select([self._control], [], [], timeout)
        if not ready:
            raise HarnessError(f"the sandbox did not answer within {timeout:g} s")
        message, fds, _, _ = socket.recv_fds(self._control, 65536, 1)
        if not message:
            for fd in fds:
                os.close(fd)
            raise HarnessError(f"the sandbox stopped: {self.output_tail()[-2000:]}")
        reply: dict[str, Any] = json.loads(message)
        return reply, fds

    def _drain(self) -> None:
        process = self._process
        if process is None or process.stdout is None:
            return
        fd = process.stdout.fileno()
        while chunk := os.read(fd, 65536):
            self._tail += chunk
            del self._tail[:-OUTPUT_TAIL_BYTES]


def _environment() -> dict[str, str]:
    """A small, fixed environment for the template: no secrets, deterministic hashing, one thread.

    PYTHONPATH names the folder that holds this `grader` package, so the template imports the same
    grader as the parent (a student kit or a Gradescope bundle need not be installed). The MALLOC_
    settings make glibc serve large blocks from the heap and keep what is freed: training frees
    and allocates the same tensors step after step, and a block given back to the system costs a
    page fault per 4 KiB when it is taken again, which shows in the children's page faults and CPU
    time.
    The memory limit still holds: the heap counts against it as mappings do.
    """
    env = {
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "PYTHONHASHSEED": "0",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "CUBLAS_WORKSPACE_CONFIG": ":4096:8",
        "MALLOC_MMAP_THRESHOLD_": str(2**30),
        "MALLOC_TRIM_THRESHOLD_": str(2**32),
        "MALLOC_TOP_PAD_": str(2**26),
    }
    for name in ("CUDA_VISIBLE_DEVICES", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "TZ"):
        if name in os.environ:
            env[name] = os.environ[name]
    return env


def launched() -> Sandbox | None:
    """A sandbox whose template is starting (`Sandbox.launch`), or None when it cannot be launched
    (the checks' sandbox fixture then tries again, and fails each check as not graded)."""
    sandbox = Sandbox()
    try:
        sandbox.launch()
    except Exception:
        sandbox.close()
        return None
    return sandbox
