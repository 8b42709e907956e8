"""The sandbox and its channel: plain data only, limits, restarts, determinism, captured output."""

import json
import os
import signal
import socket
import struct
import time

import pytest
import torch

from grader.checking.items import describe_value
from grader.child.template import NOBODY
from grader.errors import (
    ConfigurationError,
    HarnessError,
    SubmissionCrashed,
    SubmissionTimedOut,
)
from grader.intake.submission import parse_submission
from grader.protocol.channel import (
    Channel,
    ChannelClosed,
    Handle,
    Layer,
    Opaque,
    ProtocolError,
    decode,
    encode,
)
from grader.sandbox.isolation import Isolation, preferred
from grader.sandbox.launcher import ExitStatus, Sandbox
from grader.sandbox.process import SubmissionProcess
from tests.conftest import TEST_LIMITS


def submission(source: str):
    return parse_submission(source.encode(), "s.py")


# The channel


def roundtrip(value):
    tensors: dict = {}
    return decode(json.loads(json.dumps(encode(value, tensors))), tensors)


def test_values_roundtrip_as_plain_data() -> None:
    value = [1, 2.5, "x", None, True, (1, (2, 3)), {"a": torch.Size([2, 3])}, torch.float64]

    assert roundtrip(value) == value


def test_tensors_roundtrip_through_safetensors_detached_and_contiguous() -> None:
    t = torch.arange(12.0, requires_grad=True).reshape(3, 4).t()

    back = roundtrip(t)

    assert torch.equal(back, t.detach())
    assert not back.requires_grad


def test_a_tensor_subclass_is_described_never_sent() -> None:
    class Sneaky(torch.Tensor):
        pass

    value = roundtrip(torch.zeros(2).as_subclass(Sneaky))

    assert value == Opaque(f"{__name__}.{Sneaky.__qualname__}", tensor_subclass=True)


@pytest.mark.parametrize(
    "data",
    [
        {"$pickle": "gASV"},
        {"$tensor": 3},
        {"a": 1, "b": 2, "c": 3},
        {"$dtype": "Tensor"},
        {"$tuple": 5},
    ],
)
def test_decode_refuses_anything_but_the_documented_forms(data) -> None:
    with pytest.raises(ProtocolError):
        decode(data, {})


def test_oversized_frames_are_refused_before_they_are_read() -> None:
    a, b = socket.socketpair()
    a.sendall(struct.pack(">QQ", 10, 2**40))

    with pytest.raises(ProtocolError, match="frame too large"):
        Channel(b).receive()
    a.close()
    b.close()


def test_a_closed_channel_is_reported() -> None:
    a, b = socket.socketpair()
    a.close()

    with pytest.raises(ChannelClosed):
        Channel(b).receive()


def test_blobs_that_are_not_safetensors_are_refused() -> None:
    a, b = socket.socketpair()
    header = b'{"id": 1}'
    a.sendall(struct.pack(">QQ", len(header), 8) + header + b"\x80\x04K\x01.\x00\x00\x00")

    with pytest.raises(ProtocolError, match="malformed tensors"):
        Channel(b).receive()


def test_layer_specs_roundtrip() -> None:
    spec = Layer("LazyConv2d", (1,), (("kernel_size", 3), ("padding", (1, 2))))

    assert roundtrip(spec) == spec


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "None (is a `return` missing?)"),
        ([1], "a list"),
        (Opaque("numpy.ndarray"), "a value of type numpy.ndarray"),
        (3, "an int"),
    ],
)
def test_describe_value(value, text: str) -> None:
    assert describe_value(value) == text


# Exit statuses


@pytest.mark.parametrize(
    ("status", "text"),
    [
        (
            ExitStatus(exitcode=0),
            "your code ended the process with exit status 0 (sys.exit() or os._exit())",
        ),
        (ExitStatus(exitcode=3), "your code ended the process with exit status 3"),
        (ExitStatus(signal=11), "it crashed with a segmentation fault (signal 11)"),
        (ExitStatus(signal=9), "it was killed (signal 9), most likely for using too much memory"),
        (ExitStatus(signal=9, by_grader=True), "it was stopped by the grader"),
        (ExitStatus(signal=6), "it was ended by signal 6 SIGABRT"),
    ],
)
def test_exit_statuses_are_described_plainly(status: ExitStatus, text: str) -> None:
    assert status.describe() == text


# Isolation levels


def test_isolation_is_described_for_the_report_header(sandbox) -> None:
    text = sandbox.describe()

    assert text.startswith(sandbox.isolation.describe())
    assert "3 s per call" in text


@pytest.mark.parametrize("mode", ["bubblewrap", "unshare", "rlimits"])
def test_each_isolation_level_says_what_it_protects(mode) -> None:
    text = Isolation(mode, drop_to_nobody=False, own_pid_namespace=True).describe()

    assert text.startswith(mode)


def test_an_unknown_isolation_setting_names_its_source(monkeypatch) -> None:
    monkeypatch.setenv("HW2_GRADER_ISOLATION", "docker")

    with pytest.raises(
        ConfigurationError, match="invalid HW2_GRADER_ISOLATION 'docker' from the environment"
    ):
        preferred()


# The child


def test_a_launched_sandbox_is_waited_for_by_its_first_spawn() -> None:
    box = Sandbox(TEST_LIMITS)
    try:
        box.launch()
        assert not box.versions.get("ready")  # launching does not wait for torch's import

        with SubmissionProcess(box, submission("def corr2d(X, K):\n    return X + K\n")) as p:
            assert p.call(p.item("corr2d"), 1, 2) == 3

        assert box.versions["ready"]
    finally:
        box.close()
    assert box.versions == {}


def test_calls_are_seeded_so_reruns_agree(sandbox) -> None:
    with SubmissionProcess(
        sandbox, submission("import torch\n\ndef corr2d(X, K):\n    return torch.rand(3)\n")
    ) as p:
        f = p.item("corr2d")
        first, again, other = p.call(f, 1, 2), p.call(f, 1, 2), p.call(f, 1, 2, seed=7)

    assert torch.equal(first, again)
    assert not torch.equal(first, other)


def test_the_templates_rehearsal_starts_no_thread() -> None:
    """The template rehearses the channel before it forks; a thread started there (OpenMP's pool,
    say) would make every fork unsafe."""
    import subprocess
    import sys

    script = (
        "import os, torch, grader.child.serve\n"
        "from grader.child.template import _rehearse_the_channel\n"
        "before = len(os.listdir('/proc/self/task'))\n"
        "_rehearse_the_channel()\n"
        "print(before, len(os.listdir('/proc/self/task')))\n"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "4"}
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)

    before, after = map(int, out.stdout.split())
    assert after == before


REUSED_MEMORY = """
import resource
import torch

def corr2d(megabytes, rounds):
    torch.ones(megabytes * 2**18).sum()  # the first touches its pages
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(rounds):
        torch.ones(megabytes * 2**18).sum()
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
"""


def test_memory_a_child_frees_is_reused_not_faulted_in_again(sandbox) -> None:
    """Training allocates and frees the same large tensors step after step; the child's malloc
    keeps freed memory instead of returning it to the system (where every reuse is a page fault
    per 4 KiB). Four 64 MiB tensors after the first would otherwise cost 65,536 faults."""
    with SubmissionProcess(sandbox, submission(REUSED_MEMORY)) as p:
        faults = p.call(p.item("corr2d"), 64, 4)

    assert faults < 64 * 2**20 // 4096


def test_student_output_is_captured_per_call_and_capped(sandbox) -> None:
    source = "def corr2d(X, K):\n    print('hello')\n    print('x' * 200_000)\n    return 1\n"
    with SubmissionProcess(sandbox, submission(source)) as p:
        p.call(p.item("corr2d"), 1, 2)

    assert p.last_stdout.startswith("hello\n")
    assert len(p.last_stdout) == 64 * 1024


def test_exceptions_come_back_with_the_students_frames_only(sandbox) -> None:
    source = "def helper(x):\n    return 1 / x\n\ndef corr2d(X, K):\n    return helper(0)\n"
    with (
        SubmissionProcess(sandbox, submission(source)) as p,
        pytest.raises(SubmissionCrashed) as info,
    ):
        p.call(p.item("corr2d"), 1, 2, what="corr2d(X, K)")

    text = str(info.value)
    assert text.startswith("corr2d(X, K) raised ZeroDivisionError: division by zero")
    assert 'File "<cell 1>", line 5, in corr2d' in text
    assert 'File "<cell 1>", line 2, in helper' in text
    assert "grader" not in text


def test_objects_are_remade_after_a_restart(sandbox) -> None:
    source = (
        "import time\nimport torch\nfrom torch import nn\n\n"
        "class Conv2D(nn.Module):\n    def __init__(self, k):\n        super().__init__()\n"
        "        self.weight = nn.Parameter(torch.rand(k))\n\n"
        "def pool2d(X, size, mode='max'):\n    time.sleep(60)\n"
    )
    with SubmissionProcess(sandbox, submission(source)) as p:
        layer = p.call(p.item("Conv2D"), (2, 2))
        before = p.attribute(layer, "weight")
        with pytest.raises(SubmissionTimedOut):
            p.call(p.item("pool2d"), 1, (1, 1))
        after = p.attribute(layer, "weight")

    assert p.restarts >= 2
    assert torch.equal(before, after)


TWO_ITEMS = "def corr2d(X, K):\n    return X * 2\n\ndef pool2d(X, size):\n    return X + 1\n"


def test_a_child_looks_its_items_up_as_it_loads_in_one_round_trip(sandbox, sent_requests) -> None:
    with SubmissionProcess(sandbox, submission(TWO_ITEMS)) as p:
        corr2d, pool2d = p.item("corr2d"), p.item("pool2d")
        assert sent_requests == ["load"]
        assert (corr2d.type, pool2d.type) == ("function", "function")
        assert (p.call(corr2d, 3, None), p.call(pool2d, 3, None)) == (6, 4)


def test_a_stand_in_child_sets_up_and_looks_up_its_items_in_the_same_round_trip(
    sandbox, sent_requests
) -> None:
    source = (
        "import torch\nfrom torch import nn\n\ndef corr2d(X, K):\n    return X * 0\n\n"
        "class Conv2D(nn.Module):\n    def __init__(self, kernel_size):\n        super().__init__()\n"
        "        self.weight = nn.Parameter(torch.ones(kernel_size))\n\n"
        "    def forward(self, x):\n        return corr2d(x, self.weight)\n"
    )
    with SubmissionProcess(sandbox, submission(source), substitute_for=("Conv2D",)) as p:
        layer = p.call(p.item("Conv2D"), (2, 2))
        got = p.method(layer, "forward", torch.ones(3, 3))

    assert sent_requests == ["load", "call", "method"]
    assert torch.equal(got, torch.full((2, 2), 4.0))  # the stand-in corr2d, not the student's


def test_an_item_whose_lookup_hangs_fails_alone(sandbox) -> None:
    """`@add_to_class(X)` binds the name to None, so the lookup evaluates X again; here X hangs
    the second time. The child is restarted and the items are looked up one by one when used."""
    source = (
        "import time\n\nclass Box:\n    pass\n\nseen = []\n\n"
        "def box():\n    seen.append(1)\n    if len(seen) > 1:\n        time.sleep(60)\n"
        "    return Box\n\n"
        "def add_to_class(Class):\n    def wrapper(obj):\n        setattr(Class, obj.__name__, obj)\n"
        "    return wrapper\n\n"
        + TWO_ITEMS.replace("def pool2d", "@add_to_class(box())\ndef pool2d")
    )
    with SubmissionProcess(sandbox, submission(source)) as p:
        assert p.call(p.item("corr2d"), 3, None) == 6
        with pytest.raises(SubmissionTimedOut):
            p.item("pool2d")
        assert p.call(p.item("corr2d"), 5, None) == 10


def test_a_request_the_child_cannot_serve_is_our_fault_not_the_students(sandbox) -> None:
    with SubmissionProcess(sandbox, submission("def corr2d(X, K):\n    return 1\n")) as p:
        f = p.item("corr2d")
        with pytest.raises(HarnessError, match="unknown handle"):
            p._exchange("call", [Handle(999, "x"), [], {}], what="x", timeout=3, seed=0)
        assert p.call(f, 1, 2) == 1


def test_fd_level_output_goes_to_the_staff_log_not_the_verdict(sandbox) -> None:
    source = (
        "import os\n\ndef corr2d(X, K):\n    os.write(1, b'=== 99 passed ===\\n')\n    return 5\n"
    )
    with SubmissionProcess(sandbox, submission(source)) as p:
        assert p.call(p.item("corr2d"), 1, 2) == 5

    assert p.last_stdout == ""


def test_network_is_unreachable_in_a_namespace(sandbox) -> None:
    if sandbox.isolation.mode == "rlimits":
        pytest.skip("no network namespace without bubblewrap or unshare")
    source = (
        "import socket\n\ndef corr2d(X, K):\n    try:\n"
        "        socket.create_connection(('1.1.1.1', 53), timeout=1)\n        return 'connected'\n"
        "    except OSError as e:\n        return type(e).__name__\n"
    )
    with SubmissionProcess(sandbox, submission(source)) as p:
        assert p.call(p.item("corr2d"), 1, 2) == "OSError"


def test_student_code_runs_as_nobody_when_the_grader_is_root(sandbox) -> None:
    if not sandbox.isolation.drop_to_nobody:
        pytest.skip("the grader is not root here, or cannot change user")
    source = "import os\n\ndef corr2d(X, K):\n    return os.getuid(), os.getcwd()\n"
    with SubmissionProcess(sandbox, submission(source)) as p:
        uid, cwd = p.call(p.item("corr2d"), 1, 2)

    assert uid == 65534
    assert cwd.startswith("/tmp/submission-")


def test_private_tmp_is_mounted_before_the_binds() -> None:
    """Regression: a venv under /tmp (a fresh clone in CI) was hidden by the tmpfs mounted over it."""
    from grader.sandbox.isolation import bubblewrap_arguments

    args = bubblewrap_arguments(drop_caps=False)

    first_tmpfs = args.index("--tmpfs")
    assert args[first_tmpfs + 1] == "/tmp"
    assert first_tmpfs < args.index("--ro-bind")


def test_hidden_paths_survive_an_environment_without_reference(monkeypatch) -> None:
    """Regression: in the student kit, looking `reference` up raised and the sandbox could not start."""
    import importlib.util

    from grader.sandbox import isolation

    def refuse(name, *args, **kwargs):
        raise ImportError(f"no {name} here")

    monkeypatch.setattr(importlib.util, "find_spec", refuse)

    hidden = isolation.hidden_paths()

    assert not [p for p in hidden if p.name == "reference"]


# Children forked ahead


def _children_of(pid: int) -> dict[int, int]:
    """{child pid: its real uid} for the live children of `pid` (same PID namespace only)."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/status") as status:
                uid = next(int(line.split()[1]) for line in status if line.startswith("Uid:"))
        except (OSError, StopIteration):
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found[int(entry)] = uid
    return found


def _wait_for(condition, seconds=10.0):
    deadline = time.monotonic() + seconds
    while not (value := condition()) and time.monotonic() < deadline:
        time.sleep(0.02)
    return value


@pytest.mark.skipif(os.geteuid() != 0, reason="leaving root for nobody needs root")
def test_a_child_forked_ahead_waits_as_root_and_becomes_nobody_when_handed_out() -> None:
    isolation = Isolation("rlimits", drop_to_nobody=True, own_pid_namespace=False)
    program = submission("def corr2d(X, K):\n    return X + K")
    with Sandbox(TEST_LIMITS, isolation) as box:
        template = box.versions["pid"]
        waiting = _wait_for(lambda: _children_of(template))
        assert list(waiting.values()) == [0]  # forked ahead, not yet anyone's

        with SubmissionProcess(box, program) as process:
            assert process.call(process.item("corr2d"), 1, 2) == 3
            children = _wait_for(
                lambda: len(_children_of(template)) == 2 and _children_of(template)
            )
            assert children[next(iter(waiting))] == NOBODY  # the one handed out
            (spare,) = (pid for pid, uid in children.items() if pid not in waiting)
            assert children[spare] == 0  # the next one, waiting

        os.kill(spare, signal.SIGKILL)  # a child that died while waiting is never handed out
        _wait_for(lambda: spare not in _children_of(template))
        with SubmissionProcess(box, program) as process:
            assert process.call(process.item("corr2d"), 2, 3) == 5
            assert process.statement_errors == {}
