"""One submission's child as the parent reaches it: seeded calls, captured output, restarts, loads
in one round trip, failures that are the student's or ours."""

import pytest
import torch

from grader.errors import (
    HarnessError,
    OutOfTime,
    SubmissionCrashed,
    SubmissionTimedOut,
)
from grader.intake.submission import parse_submission
from grader.protocol.channel import (
    Handle,
)
from grader.sandbox.limits import Budget
from grader.sandbox.process import SubmissionProcess


def submission(source: str):
    return parse_submission(source.encode(), "s.py")


def test_calls_are_seeded_so_reruns_agree(sandbox) -> None:
    with SubmissionProcess(
        sandbox, submission("import torch\n\ndef corr2d(X, K):\n    return torch.rand(3)\n")
    ) as p:
        f = p.item("corr2d")
        first, again, other = p.call(f, 1, 2), p.call(f, 1, 2), p.call(f, 1, 2, seed=7)

    assert torch.equal(first, again)
    assert not torch.equal(first, other)


REUSED_MEMORY = """
import resource
import torch

def corr2d(megabytes, rounds):
    torch.ones(megabytes * 2**18).sum()  # the first touches its pages
    faults = []
    for _ in range(rounds):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        torch.ones(megabytes * 2**18).sum()
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    return faults
"""


def test_memory_a_child_frees_is_reused_not_faulted_in_again(sandbox) -> None:
    """Training allocates and frees the same large tensors step after step; the child's malloc
    keeps freed memory instead of returning it to the system (where every reuse is a page fault
    per 4 KiB: 16,384 for each 64 MiB tensor after the first). The kernel may fault some pages
    in again for its own reasons (NUMA balancing samples pages that way), so one round in six
    is enough to show the reuse: without it, every round faults in the whole tensor."""
    with SubmissionProcess(sandbox, submission(REUSED_MEMORY)) as p:
        faults = p.call(p.item("corr2d"), 64, 6)

    assert min(faults) < 64 * 2**20 // 4096 // 4


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
    # A script's cell has no `In [n]`: it is cited by its first line.
    assert 'File "the cell starting `def helper(x):`", line 5, in corr2d' in text
    assert 'File "the cell starting `def helper(x):`", line 2, in helper' in text
    assert "grader" not in text
    assert "^" not in text  # no column markers: Python 3.11 and 3.13 draw them differently


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
            p._request("call", [Handle(999, "x"), [], {}], what="x", timeout=3, seed=0)
        assert p.call(f, 1, 2) == 1


def test_whatever_student_code_raises_is_the_students_even_a_protocol_error(sandbox) -> None:
    """Only a request the child cannot read is our fault: a student cannot make a check look like
    one of ours by raising the child's own ProtocolError."""
    source = (
        "import sys\n\ndef corr2d(X, K):\n"
        "    raise sys.modules['grader.protocol.channel'].ProtocolError('unknown handle 1')\n"
    )
    with (
        SubmissionProcess(sandbox, submission(source)) as p,
        pytest.raises(SubmissionCrashed, match="raised ProtocolError: unknown handle 1"),
    ):
        p.call(p.item("corr2d"), 1, 2, what="corr2d")


def test_fd_level_output_goes_to_the_staff_log_not_the_verdict(sandbox) -> None:
    source = (
        "import os\n\ndef corr2d(X, K):\n    os.write(1, b'=== 99 passed ===\\n')\n    return 5\n"
    )
    with SubmissionProcess(sandbox, submission(source)) as p:
        assert p.call(p.item("corr2d"), 1, 2) == 5

    assert p.last_stdout == ""


def test_a_submission_out_of_time_is_stopped_and_runs_nothing_more(sandbox) -> None:
    """However its calls stay within their own limits, a submission gets its budget and no more,
    shared by all of its children."""
    source = "import time\n\ndef corr2d(X, K):\n    time.sleep(X)\n    return X\n"
    budget = Budget(2.5)
    with (
        SubmissionProcess(sandbox, submission(source), budget=budget) as first,
        SubmissionProcess(sandbox, submission(source), budget=budget) as second,
    ):
        assert first.call(first.item("corr2d"), 1.5, 0) == 1.5
        with pytest.raises(OutOfTime, match=r"used up its 2\.5 s for the whole homework"):
            second.call(second.item("corr2d"), 2.0, 0)  # within the call's own 3 s limit
        with pytest.raises(OutOfTime):
            first.call(first.item("corr2d"), 0, 0)
        with pytest.raises(OutOfTime):
            second.call(second.item("corr2d"), 0, 0)  # no child is started for it

    assert budget.left() <= 0


def test_a_name_error_on_a_dropped_assignment_says_where_and_why_it_did_not_run(sandbox) -> None:
    source = (
        "import torch\n"
        "for _ in range(1):\n"
        "    act = torch.relu\n"
        "def corr2d(X, K):\n"
        "    return act(X)\n"
    )
    with (
        SubmissionProcess(sandbox, submission(source)) as p,
        pytest.raises(SubmissionCrashed) as info,
    ):
        p.call(p.item("corr2d"), torch.ones(2, 2), torch.ones(1, 1), what="corr2d(X, K)")

    assert info.value.error_message == (
        "name 'act' is not defined: `act` is assigned in the cell starting `import torch`, line 2 "
        "(`for _ in range(1):`), "
        "which the grader does not run (top-level loop: not run by the grader). Assign `act` "
        "with a plain `act = ...` at the top level of a cell, outside loops, `if` and `with` "
        "blocks, or create it inside the function or class that uses it."
    )


def test_a_name_error_on_an_assignment_that_failed_names_its_error(sandbox) -> None:
    source = "import torch\nact = torch.no_such_function\ndef corr2d(X, K):\n    return act(X)\n"
    with (
        SubmissionProcess(sandbox, submission(source)) as p,
        pytest.raises(SubmissionCrashed) as info,
    ):
        p.call(p.item("corr2d"), torch.ones(2, 2), torch.ones(1, 1), what="corr2d(X, K)")

    assert info.value.error_message.startswith(
        "name 'act' is not defined: `act` is assigned in the cell starting `import torch`, line 2, "
        "but that statement "
        "raised AttributeError: module 'torch' has no attribute 'no_such_function'"
    )


def test_top_level_helpers_a_definition_uses_run_before_it_is_called(sandbox) -> None:
    source = (
        "import torch\nfrom torch import nn\n"
        "relu = nn.ReLU()\n"
        "scale = torch.tensor(2.0)\n"
        "double = lambda X: X * scale\n"
        "def corr2d(X, K):\n"
        "    return double(relu(X))\n"
        "print(corr2d(torch.ones(1), None))\n"
    )
    with SubmissionProcess(sandbox, submission(source)) as p:
        got = p.call(p.item("corr2d"), torch.tensor([-1.0, 3.0]), None, what="corr2d(X, K)")

    torch.testing.assert_close(got, torch.tensor([0.0, 6.0]))
