"""The warm template: imports torch once, then forks one child per submission on the parent's request.

Started by the parent (`grader.sandbox.launcher.Sandbox`), inside the isolation launcher, as
`python -m grader.child.template CONTROL_FD LIMITS_JSON DROP SWEEP PRIVATE_TMP`. Before forking it runs no torch
operation but the channel's own tensor handling (a fork after OpenMP or CUDA start-up is unsafe)
and no student code at all. Over the control socket (SOCK_SEQPACKET, JSON messages) it answers:

* `spawn`: hand out a child, forked ahead of the request (the next one is forked right after the
  reply), which sets its own process group and, once it gets its first request, its rlimits,
  leaves root for `nobody` when DROP is 1, moves to a fresh private working directory, and serves
  the submission protocol (`grader.child.serve`). Reply: its pid, with the parent's end of a socket
  connected to it passed as a file descriptor.
* `stop` with a pid and a grace period: wait up to the grace for the child to exit, else kill its
  process group; when SWEEP is 1 (the template has its own PID namespace), also kill every process
  that escaped into a new process group. Reply: how the child ended. With `"wait": false` (the
  parent is done with the child and needs no status) it kills and sends no reply; the child is
  reaped on a later request.

When PRIVATE_TMP is 1 (bubblewrap's /tmp, which only this sandbox sees), whatever a stopped child
left in /tmp beside its own folder is removed with it, so the next child starts from the /tmp the
template started with.

When the parent goes away the template kills its children and exits.
"""

from __future__ import annotations

import contextlib
import gc
import glob
import json
import os
import select
import shutil
import signal
import socket
import sys
import tempfile
import time
import traceback
from typing import Any

from grader.child import rlimits

Limits = dict[str, float]
"""The `grader.sandbox.limits.Limits` the parent started us with, as its JSON fields."""

NOBODY = 65534


def main(argv: list[str]) -> None:
    control = socket.socket(fileno=int(argv[0]))
    limits: Limits = json.loads(argv[1])
    drop, sweep = argv[2] == "1", argv[3] == "1"
    private_tmp = len(argv) > 4 and argv[4] == "1"
    _forget_the_working_directory()
    _become_subreaper()
    _refuse_tracing()
    versions = _warm_up()
    tmp = _TmpFolder(private_tmp)
    control.send(json.dumps({"ready": True, "pid": os.getpid(), **versions}).encode())
    children: dict[int, str] = {}  # each live child's pid and its private working directory
    spare = _fork_spare(control, limits, drop, children)
    while True:
        try:
            message, fds, _, _ = socket.recv_fds(control, 65536, 1)
        except OSError:
            break
        if not message:
            break
        for fd in fds:  # the parent sends none; whatever came is closed
            os.close(fd)
        request = json.loads(message)
        if request.get("op") == "spawn":
            _reap()
            if spare is not None and not _alive(spare[0]):  # killed while it waited
                _forget(spare[0], children)
                tmp.clear(children)
                spare[1].close()
                spare = None
            if spare is None:
                spare = _fork_spare(control, limits, drop, children)
            if spare is None:
                reply: dict[str, Any] = {"error": "the template could not fork"}
            else:
                pid, ours = spare
                socket.send_fds(control, [json.dumps({"pid": pid}).encode()], [ours.fileno()])
                ours.close()
                # The next child is forked now, while the parent starts this one's work.
                spare = _fork_spare(control, limits, drop, children)
                continue
        elif request.get("op") == "stop" and not request.get("wait", True):
            pid = int(request["pid"])
            _release(pid, children, sweep)
            _forget(pid, children)
            tmp.clear(children)
            continue  # the parent does not wait for an answer
        elif request.get("op") == "stop":
            pid = int(request["pid"])
            reply = {"status": _stop(pid, float(request.get("grace", 0)), children, sweep)}
            _forget(pid, children)
            tmp.clear(children)
        else:
            reply = {"error": f"bad request {request!r}"}
        control.send(json.dumps(reply).encode())
    for pid in list(children):
        _kill_group(pid)
        _forget(pid, children)


def _forget_the_working_directory() -> None:
    """Take the template's working directory off `sys.path` (where `python -m` put it first).

    Children share the folder above their own working directories (/tmp): a module one student
    wrote there would otherwise be imported by the next student's `import`, in place of the real
    package (a planted `matplotlib`). `-P` does this from Python 3.11 on; this works on 3.10 too."""
    here = os.getcwd()
    sys.path[:] = [p for p in sys.path if p not in ("", ".", here)]


def _forget(pid: int, children: dict[int, str]) -> None:
    """Drop a stopped child: its working directory, and whatever it left there, goes with it."""
    workdir = children.pop(pid, None)
    if workdir is not None:
        shutil.rmtree(workdir, ignore_errors=True)


class _TmpFolder:
    """The folder above the children's working directories, as the template found it.

    Children that share a user can write there beside their own folders (a non-root grader's
    bubblewrap): a file one student left would be there for the next. Where the folder is the
    sandbox's own (bubblewrap's private /tmp), `clear` removes every entry that was not there when
    the template was warm and is no live child's folder; elsewhere it is the host's /tmp, which
    other programs share, and nothing is removed."""

    def __init__(self, private: bool) -> None:
        self.path = tempfile.gettempdir()
        self.private = private
        self.kept = set(os.listdir(self.path)) if private else set()

    def clear(self, children: dict[int, str]) -> None:
        if not self.private:
            return
        live = {os.path.basename(workdir) for workdir in children.values()}
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.path):
                if entry.name in self.kept or entry.name in live:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)


def _fork_spare(
    control: socket.socket, limits: Limits, drop: bool, children: dict[int, str]
) -> tuple[int, socket.socket] | None:
    """Fork the next child, connected to a new socket pair, with a working directory of its own;
    (its pid, our end), or None."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    workdir = tempfile.mkdtemp(prefix="submission-")
    try:
        pid = os.fork()
    except OSError:
        ours.close()
        theirs.close()
        shutil.rmtree(workdir, ignore_errors=True)
        return None
    if pid == 0:
        ours.close()
        _become_child(theirs.fileno(), control, limits, drop, workdir)
    theirs.close()
    children[pid] = workdir
    return pid, ours


def _alive(pid: int) -> bool:
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return False
    return done == 0


def _warm_up() -> dict[str, str]:
    """Import what every child needs, so that a fork costs milliseconds, not an `import torch`."""
    import numpy
    import torch

    import grader.child.serve
    import grader.protocol.tensorfile

    # Deterministic algorithms only set a flag, but import about 900 modules the first time; the
    # protected namespaces' snapshot is the same for every child: pay both once, here.
    grader.child.serve.prepare()
    _rehearse_the_channel()
    # What survives now is shared with every child: out of the collector's sight, a collection in a
    # child does not touch (and so copy) the template's pages.
    gc.collect()
    gc.freeze()
    return {"torch": torch.__version__, "numpy": numpy.__version__}


def _rehearse_the_channel() -> None:
    """Send one frame of every kind of value through a channel and read it back, here, once: what
    the protocol's first use sets up in a process (torch's dispatch of the few tensor functions it
    calls, JSON's encoder, the seeding) is then inherited by every child instead of being paid
    again in each child's first call. These functions start no thread."""
    import torch

    from grader.child.seeding import seed_everything
    from grader.protocol.channel import Channel, Handle, Layer, decode, encode

    ours, theirs = socket.socketpair()
    with ours, theirs:
        tensors: dict[str, Any] = {}
        value = [torch.ones(2, 2), (1, 2.0, "x", None), {"a": torch.Size([1])}, torch.float32]
        header = {"value": encode([*value, Handle(1, "f"), Layer("ReLU")], tensors)}
        Channel(ours).send(header, tensors)
        received, blob = Channel(theirs).receive()
        decode(received["value"], blob)
    seed_everything(0)


def _become_child(
    fd: int, control: socket.socket, limits: Limits, drop: bool, workdir: str
) -> None:
    """The forked child: wait to be handed out, isolate, limit, and serve the submission protocol;
    never returns.

    A child is forked before it is needed, and waits, as the template's user, for its first
    request; only then, before reading anything of it, does it take on its limits and leave root
    for `nobody`. So while it waits, no student's process (run as `nobody`) can signal it."""
    status = 0
    try:
        control.close()
        os.setsid()
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large file fails to write instead
        import torch

        torch.set_num_threads(1)
        from grader.child.serve import serve
        from grader.protocol.channel import Channel

        channel = Channel(socket.socket(fileno=fd))
        select.select([channel.sock], [], [])  # handed out: the parent has sent a request
        _isolate(workdir, limits, drop)
        serve(channel)
    except BaseException:  # the child must never return into the template's loop
        status = 70
        with contextlib.suppress(BaseException):
            traceback.print_exc()
    finally:
        os._exit(status)


def _isolate(workdir: str, limits: Limits, drop: bool) -> None:
    """CUDA (where there is a GPU), limits, then `nobody` (when the template is root), then the
    private working directory."""
    if drop:
        os.chown(workdir, NOBODY, NOBODY)
    _start_cuda()
    rlimits.apply(limits)
    if drop:
        os.setgroups([])
        os.setresgid(NOBODY, NOBODY, NOBODY)
        os.setresuid(NOBODY, NOBODY, NOBODY)
    os.chdir(workdir)
    os.environ["HOME"] = workdir
    tempfile.tempdir = workdir


_GPU = bool(glob.glob("/dev/nvidia[0-9]*")) and os.environ.get("CUDA_VISIBLE_DEVICES") != ""
"""Whether this machine shows a GPU, looked at once in the template (a child only reads it)."""


def _start_cuda() -> None:
    """Where the machine has a GPU, create this child's CUDA context before its memory limit is
    set. The limit is on address space, and CUDA reserves far more of it than any limit a child
    gets (it fails with "out of memory" under one), so the training smoke runs the parent sends to
    the GPU could not start and a correct notebook lost their points. Created here, the
    reservation is part of what the limit adds to. The template itself never touches CUDA: a
    context does not survive a fork."""
    if not _GPU:
        return  # torch.cuda is not touched at all (asking it changes how a child allocates)
    import torch

    with contextlib.suppress(Exception):  # no usable GPU after all: training stays on the CPU
        torch.empty(0, device="cuda")


def _stop(pid: int, grace: float, children: dict[int, str], sweep: bool) -> dict[str, Any]:
    deadline = time.monotonic() + grace
    status = None
    while True:
        try:
            done, raw = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:  # it ended and was reaped already (by `_reap`, at a spawn)
            done, raw = pid, _REAPED.pop(pid, 0)
        if done:
            status = _describe(raw, killed=False)
            break
        if time.monotonic() >= deadline:
            _kill_group(pid)
            status = _wait(pid, seconds=10.0)
            break
        time.sleep(0.005)
    _kill_group(pid)  # whatever the child left running in its group
    _sweep_or_kill_strays({c for c in children if c != pid}, sweep)
    _reap()
    return status


def _release(pid: int, children: dict[int, str], sweep: bool) -> None:
    """Kill a child the parent is done with; it is reaped on a later request."""
    _kill_group(pid)
    _sweep_or_kill_strays({c for c in children if c != pid}, sweep)
    _reap()


def _wait(pid: int, seconds: float) -> dict[str, Any]:
    """Reap a child we just killed; if it will not die, say so rather than block the template."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            done, raw = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return _describe(_REAPED.pop(pid, 0), killed=True)
        if done:
            return _describe(raw, killed=True)
        time.sleep(0.005)
    return {"signal": signal.SIGKILL, "by_grader": True, "unreaped": True}


def _describe(raw: int, *, killed: bool) -> dict[str, Any]:
    if os.WIFSIGNALED(raw):
        return {"signal": os.WTERMSIG(raw), "by_grader": killed}
    return {"exitcode": os.WEXITSTATUS(raw), "by_grader": killed}


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(OSError):
        os.killpg(pgid, signal.SIGKILL)


def _sweep_or_kill_strays(spare: set[int], sweep: bool) -> None:
    if sweep:
        _sweep(spare)
    else:
        _kill_strays(spare)


def _become_subreaper() -> None:
    """Have whatever a child leaves behind, even detached by a double fork, re-parented to the
    template rather than to init, where `_kill_strays` finds it."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)


PR_SET_CHILD_SUBREAPER = 36
PR_SET_DUMPABLE = 4


def _refuse_tracing() -> None:
    """Make the template, and every child forked from it, not dumpable: a process of the same user
    can then neither trace it nor read its memory (`/proc/PID/mem`). Where children share a user (a
    grader without root), a child could otherwise rewrite the template, or the next child waiting
    to be handed out, and so run its code in another student's process."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def _kill_strays(spare: set[int]) -> None:
    """Kill every process below the template but the children in `spare` and what they started:
    without a PID namespace of our own (`_sweep`'s), this is what a stopped child left running."""
    me = os.getpid()
    for _ in range(3):  # a stray may fork while we look: look again
        parents: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                parents[int(entry)] = _parent_of(int(entry))
        strays = []
        for pid in parents:
            if pid in spare or pid == me:
                continue
            ancestor, steps = parents.get(pid, 0), 0
            while ancestor not in (me, 0, 1) and ancestor not in spare and steps < 4096:
                ancestor, steps = parents.get(ancestor, 0), steps + 1
            if ancestor == me:
                strays.append(pid)
        if not strays:
            return
        for pid in strays:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        _reap()


def _sweep(spare: set[int]) -> None:
    """Kill every process of this PID namespace but the template, its ancestors and `spare` groups."""
    keep = {os.getpid(), 1}
    pid = os.getppid()
    while pid > 1:
        keep.add(pid)
        pid = _parent_of(pid)
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) in keep:
            continue
        try:
            # By pid too: a child forked a moment ago may not have its own group yet.
            if int(entry) in spare or os.getpgid(int(entry)) in spare:
                continue
            os.kill(int(entry), signal.SIGKILL)
        except OSError:
            continue


def _parent_of(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return int(stat.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return 0


_REAPED: dict[int, int] = {}
"""The wait status of children reaped before the parent asked to stop them (the last few)."""


def _reap() -> None:
    while True:
        try:
            pid, raw = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        _REAPED[pid] = raw
        while len(_REAPED) > 256:
            del _REAPED[next(iter(_REAPED))]


if __name__ == "__main__":
    main(sys.argv[1:])
