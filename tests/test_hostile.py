"""The isolation contract: each hostile notebook loses exactly the items it should, and no more.

Every notebook in tests/fixtures/notebooks/hostile/ is the book's homework with one kind of attack
or accident in it; each is bounded and safe to run without a sandbox. Some outcomes depend on the
isolation in force (a file the sandbox hides is readable without one), and the table says so.
"""

import ast
import contextlib
import json
import socket
import threading
from pathlib import Path

import pytest

from grader.checking import standins
from grader.errors import (
    SubmissionError,
    SubmissionExited,
    SubmissionTimedOut,
    WrongReturnType,
)
from grader.grading import GradingSession
from grader.intake.submission import load_submission, parse_submission
from grader.sandbox.process import SubmissionProcess
from tests.fixtures.build_notebooks import as_json, hostile, notebook
from tests.support.item_checks import ITEM_CHECKS

HOSTILE = Path(__file__).parent / "fixtures" / "notebooks" / "hostile"
FAKE_RESULTS = Path("/tmp/hw2-hostile-results.json")


def grade_items(
    sandbox, submission
) -> tuple[dict[str, SubmissionError | AssertionError], SubmissionProcess]:
    """Run every item check; the failures by item (anything else is a bug of ours and propagates)."""
    failures: dict[str, SubmissionError | AssertionError] = {}
    with SubmissionProcess(sandbox, submission) as process:
        for item, check in ITEM_CHECKS.items():
            try:
                check(process)
            except (AssertionError, SubmissionError) as error:
                failures[item] = error
    return failures, process


HIDDEN_ONLY_IN_BUBBLEWRAP = {"bubblewrap": {"pool2d"}, "unshare": set(), "rlimits": set()}

TABLE = {
    "sleeps_forever": {"pool2d"},
    "busy_loop": {"comp_conv2d"},
    "forgotten_increment": {"corr2d_multi_in_out_1x1"},
    "top_level_loops": set(),
    "class_body_loop": set(),
    "huge_allocation": {"init_cnn"},
    "fork_storm": {"layer_summary"},
    "patches_comparisons": {"corr2d_multi_in_out"},
    "tensor_subclass": {"corr2d_multi_in_out"},
    "reads_grader_files": HIDDEN_ONLY_IN_BUBBLEWRAP,
    # These item checks run without stand-ins: corr2d_multi_in_out calls the student's own.
    "reaches_for_stand_ins": {
        "bubblewrap": {"corr2d_multi_in", "corr2d_multi_in_out"},
        "unshare": set(),
        "rlimits": set(),
    },
    "writes_fake_results": set(),
    "exits": {"pool2d", "comp_conv2d"},
    "fake_output": {"corr2d_multi_in_out"},
    "segfault": {"ResNet18"},
    "wrong_return_type": {"pool2d"},
    # Conv2D's forward calls the student's corr2d in these item checks.
    "surrogate_message": {"corr2d", "Conv2D"},
    "deep_nesting": {"corr2d", "Conv2D", "pool2d"},
    "state_dict_ints": set(),  # the item checks ask for no state dict: see the test below
    "many_magics": set(),
    "drips_bytes": {"corr2d", "Conv2D"},
    "huge_frame": {"corr2d", "Conv2D"},
    "fake_layers": set(),  # the item checks walk no model's layers: see the test below
    "patches_probes": set(),  # the item checks ask for no probe it swaps: see the test below
}


def test_the_table_covers_every_hostile_fixture() -> None:
    assert sorted(TABLE) == sorted(p.stem for p in HOSTILE.glob("*.ipynb"))


def test_a_correct_notebook_passes_every_item_check(sandbox) -> None:
    failures, process = grade_items(
        sandbox,
        load_submission(HOSTILE.parent.parent.parent.parent / "submissions" / "solved.ipynb"),
    )

    assert failures == {}
    assert process.restarts == 1  # the close at the end


@pytest.mark.parametrize("name", sorted(TABLE))
def test_hostile_notebook_loses_exactly_its_items(sandbox, name: str) -> None:
    expected = TABLE[name]
    if isinstance(expected, dict):
        expected = expected[sandbox.isolation.mode]
    FAKE_RESULTS.unlink(missing_ok=True)

    failures, _ = grade_items(sandbox, load_submission(HOSTILE / f"{name}.ipynb"))

    assert set(failures) == expected, {k: str(v)[:200] for k, v in failures.items()}


def test_time_limits_name_the_call_and_the_limit(sandbox) -> None:
    failures, process = grade_items(sandbox, load_submission(HOSTILE / "sleeps_forever.ipynb"))

    error = failures["pool2d"]
    assert isinstance(error, SubmissionTimedOut)
    assert str(error).startswith("pool2d(...) did not finish within 3 s and was stopped")
    assert process.restarts >= 2


def test_a_statement_that_hangs_costs_only_what_it_defines(sandbox) -> None:
    submission = load_submission(HOSTILE / "class_body_loop.ipynb")

    with SubmissionProcess(sandbox, submission) as process:
        process.item("corr2d")
        errors = process.statement_errors

    [(index, how)] = errors.items()
    assert submission.program.statements[index].names == ("Spinner",)
    assert how == "did not finish within 3 s"


def test_exits_end_only_the_call_that_exits(sandbox) -> None:
    failures, _ = grade_items(sandbox, load_submission(HOSTILE / "exits.ipynb"))

    assert isinstance(failures["comp_conv2d"], SubmissionExited)
    assert "exit status 0" in str(failures["comp_conv2d"])
    assert "raised SystemExit" in str(failures["pool2d"])


def test_a_segfault_is_reported_as_such(sandbox) -> None:
    failures, _ = grade_items(sandbox, load_submission(HOSTILE / "segfault.ipynb"))

    assert "segmentation fault" in str(failures["ResNet18"])


def test_a_huge_allocation_fails_with_memory_error(sandbox) -> None:
    failures, _ = grade_items(sandbox, load_submission(HOSTILE / "huge_allocation.ipynb"))

    assert "MemoryError" in str(failures["init_cnn"])


def test_wrong_return_types_are_named(sandbox) -> None:
    wrong_type, _ = grade_items(sandbox, load_submission(HOSTILE / "wrong_return_type.ipynb"))
    subclass, _ = grade_items(sandbox, load_submission(HOSTILE / "tensor_subclass.ipynb"))

    assert "returned a list, not a torch.Tensor" in str(wrong_type["pool2d"])
    assert "a tensor of type AlwaysEqual (a subclass of torch.Tensor" in str(
        subclass["corr2d_multi_in_out"]
    )


def test_an_error_message_that_is_not_valid_unicode_arrives_cleaned(sandbox) -> None:
    failures, _ = grade_items(sandbox, load_submission(HOSTILE / "surrogate_message.ipynb"))

    message = str(failures["corr2d"])
    message.encode("utf-8")  # a lone surrogate would raise here, and in every report after
    assert "raised ValueError: bad \ufffd value" in message


def test_values_nested_too_deep_fail_their_checks_and_the_child_goes_on(sandbox) -> None:
    failures, process = grade_items(sandbox, load_submission(HOSTILE / "deep_nesting.ipynb"))

    assert isinstance(failures["corr2d"], WrongReturnType)
    assert isinstance(failures["pool2d"], WrongReturnType)
    assert process.restarts == 1  # the close at the end


def test_a_state_dict_of_ints_is_the_submissions_fault(sandbox) -> None:
    with SubmissionProcess(sandbox, load_submission(HOSTILE / "state_dict_ints.ipynb")) as p:
        layer = p.call(p.item("Conv2D"), (1, 2))
        with pytest.raises(WrongReturnType) as caught:
            p.probe("state_dict", layer, what="Conv2D((1, 2)).state_dict()")

    assert str(caught.value) == (
        "Conv2D((1, 2)).state_dict() returned an int at ['weight'], not a tensor"
    )


def test_a_child_that_drips_bytes_is_stopped_at_the_calls_limit(sandbox) -> None:
    failures, _ = grade_items(sandbox, load_submission(HOSTILE / "drips_bytes.ipynb"))

    assert isinstance(failures["corr2d"], SubmissionTimedOut)


def test_a_frame_of_millions_of_values_is_refused_unparsed(sandbox) -> None:
    failures, _ = grade_items(sandbox, load_submission(HOSTILE / "huge_frame.ipynb"))

    assert isinstance(failures["corr2d"], SubmissionExited)
    assert "sent an answer the grader cannot read (an answer of more than 2,000,000 values)" in str(
        failures["corr2d"]
    )


def test_fake_results_files_stay_inside_the_sandbox(sandbox) -> None:
    FAKE_RESULTS.unlink(missing_ok=True)

    failures, _ = grade_items(sandbox, load_submission(HOSTILE / "writes_fake_results.ipynb"))

    assert failures == {}
    if sandbox.isolation.mode == "bubblewrap":
        assert not FAKE_RESULTS.exists()
    FAKE_RESULTS.unlink(missing_ok=True)


def test_grader_files_are_hidden_from_student_code(sandbox) -> None:
    if sandbox.isolation.mode != "bubblewrap":
        pytest.skip(f"files are hidden only under bubblewrap, not {sandbox.isolation.mode}")
    failures, _ = grade_items(sandbox, load_submission(HOSTILE / "reads_grader_files.ipynb"))

    assert "No such file or directory" in str(failures["pool2d"])


class LoopbackServer:
    """A TCP server on 127.0.0.1 that records what it receives (bounded: one thread, short waits)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.received: list[bytes] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def _serve(self) -> None:
        while not self.stopped.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(1.0)
                with contextlib.suppress(OSError):
                    self.received.append(conn.recv(1024))

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(timeout=2)
        self.sock.close()


def test_a_socket_to_a_loopback_server_gets_nowhere(sandbox, tmp_path: Path) -> None:
    server = LoopbackServer()
    leak = f"""import socket

def corr2d_multi_in_out_1x1(X, K):
    try:
        with socket.create_connection(('127.0.0.1', {server.port}), timeout=1) as s:
            s.sendall(b'leaked')
    except OSError:
        pass
    c_i, h, w = X.shape
    return torch.matmul(K.reshape(K.shape[0], c_i), X.reshape(c_i, h * w)).reshape(K.shape[0], h, w)"""
    path = tmp_path / "socket.ipynb"
    path.write_text(as_json(notebook(hostile(corr2d_multi_in_out_1x1=leak))))
    try:
        failures, _ = grade_items(sandbox, load_submission(path))
    finally:
        server.close()

    assert failures == {}
    if sandbox.isolation.mode in ("bubblewrap", "unshare"):
        assert server.received == []


def test_a_50_mb_notebook_of_outputs_costs_nothing(sandbox) -> None:
    nb = json.loads(as_json(notebook(hostile())))
    image = "iVBORw0KGgo" + "A" * (1024 * 1024)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            cell["outputs"] = [
                {"output_type": "display_data", "data": {"image/png": image}, "metadata": {}}
            ] * 3
    data = json.dumps(nb).encode()
    assert len(data) > 50 * 2**20

    failures, _ = grade_items(sandbox, parse_submission(data, "big.ipynb"))

    assert failures == {}


def test_an_item_that_reaches_for_a_stand_in_loses_its_points(sandbox) -> None:
    """Its checks run in a child with stand-ins (for Conv2D's `corr2d`, say): it finds no stand-in
    for itself there to call, through `sys.modules`, the collector or an import."""
    if sandbox.isolation.mode != "bubblewrap":
        pytest.skip("without bubblewrap the grader's files are importable (the weak levels)")
    with GradingSession(sandbox) as session:
        book = session.grade(HOSTILE / "reaches_for_stand_ins.ipynb")

    lost = {r.item for r in book.results if r.outcome != "passed"}
    assert lost == {"corr2d_multi_in"}


def test_probes_a_submission_swaps_are_put_back_and_it_gains_nothing(sandbox) -> None:
    """Its LeNet has ReLU where the book has Sigmoid, and its constructor swaps the child's probes
    for ones that show Sigmoid: it loses exactly what the same LeNet loses without the swap."""
    with GradingSession(sandbox, extra_args=("-k", "lenet")) as session:
        book = session.grade(HOSTILE / "patches_probes.ipynb")

    lost = sorted(r.check_id for r in book.results if r.outcome != "passed")
    assert lost == [
        "test_lenet_forward_pass_is_the_books",
        "test_lenet_has_the_books_layers_in_order",
    ]


def test_a_look_alike_of_torchs_conv2d_loses_the_layer_checks(sandbox) -> None:
    """Its vgg_block is made of a class named Conv2d, with torch's arguments and no weights."""
    with GradingSession(sandbox, extra_args=("-k", "vgg_block")) as session:
        book = session.grade(HOSTILE / "fake_layers.ipynb")

    lost = {r.check_id for r in book.results if r.outcome != "passed"}
    assert lost == {
        "test_vgg_block_is_convolutions_with_relus_then_max_pooling",
        "test_vgg_block_has_num_convs_convolutions[1]",
        "test_vgg_block_has_num_convs_convolutions[3]",
    }
    assert "not a class of the same name" in next(
        r.message for r in book.results if r.outcome != "passed"
    )


@pytest.mark.parametrize("group", standins.children())
def test_a_child_gets_no_stand_in_for_an_item_it_grades(group: tuple[str, ...]) -> None:
    source, targets = standins.source_for(list(group))
    defined = {
        node.name if hasattr(node, "name") else ast.unparse(node.targets[0])
        for node in ast.parse(source).body
        if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.Assign)
    }

    assert defined.isdisjoint(group), defined & set(group)
    assert {target.partition(".")[0] for target in targets}.isdisjoint(group)
    assert set(targets.values()) <= defined
