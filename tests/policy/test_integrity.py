""" "From scratch": the child records the torch operations an item's calls ran, the rubric's
`[integrity]` rules find the forbidden ones, and the policy decides what they cost; the sample
notebooks and every reasonable style keep their grades."""

from pathlib import Path

import pytest

from grader.errors import ConfigurationError
from grader.grading import grade
from grader.policy.integrity import IntegrityPolicy, adjustments, load_integrity_policy
from grader.reports.class_files import status
from grader.reports.feedback import feedback_markdown
from grader.reports.results import load_results, results_json
from grader.rubric import load_integrity
from grader.scoring import CheckResult, ScoreBook, by_item, final, total

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "notebooks"
INTEGRITY = FIXTURES / "integrity"
ITEMS = "corr2d or pool2d"


@pytest.fixture(scope="module")
def graded(sandbox) -> dict[str, ScoreBook]:
    """The fixtures that call the operators, and the solved notebook, graded once (corr2d, pool2d
    and the items built on corr2d)."""
    paths = [*sorted(INTEGRITY.glob("*.ipynb")), ROOT / "submissions" / "solved.ipynb"]
    return {p.stem: grade(p, sandbox=sandbox, extra_args=("-k", ITEMS)) for p in paths}


def test_conv2d_in_corr2d_costs_half_of_the_item_and_says_why(graded) -> None:
    book = graded["corr2d_calls_conv2d"]

    assert book.operations == {"corr2d": ["torch.nn.functional.conv2d"]}
    corr2d = by_item(book.results)["corr2d"]
    assert corr2d.points == corr2d.max_points  # every check passes: the values are right
    [adjustment] = book.adjustments
    assert adjustment.kind == "integrity"
    assert adjustment.item == "corr2d"
    assert adjustment.points == -corr2d.max_points / 2
    assert final(book).points == total(book.results).points - corr2d.max_points / 2
    feedback = feedback_markdown(book)
    assert "`torch.nn.functional.conv2d`" in feedback
    assert "7.2.1" in feedback


def test_an_alias_does_not_hide_the_operator(graded) -> None:
    book = graded["corr2d_hides_conv2d_behind_an_alias"]

    assert book.operations == {"corr2d": ["torch.nn.functional.conv2d"]}
    assert [a.item for a in book.adjustments] == ["corr2d"]


def test_pooling_layers_in_pool2d_are_found(graded) -> None:
    book = graded["pool2d_uses_maxpool_layers"]

    assert book.operations == {
        "pool2d": ["torch.nn.functional.avg_pool2d", "torch.nn.functional.max_pool2d"]
    }
    assert "7.5.1" in book.adjustments[0].comment


def test_the_books_loops_are_not_flagged(graded) -> None:
    book = graded["solved"]

    assert book.operations == {}
    assert book.adjustments == []
    assert final(book).points == final(book).max_points


def test_the_finding_survives_results_json_and_reaches_the_staff_status(
    graded, tmp_path: Path
) -> None:
    book = graded["corr2d_calls_conv2d"]
    (tmp_path / "results.json").write_text(results_json(book))

    again = load_results(tmp_path / "results.json")

    assert again.operations == book.operations
    assert again.adjustments == book.adjustments
    assert status(again) == "graded; not from scratch: corr2d uses conv2d"


@pytest.mark.parametrize(
    ("action", "expected"),
    [("flag", []), ("deduct", [-2.5]), ("zero", [-5.0])],
)
def test_the_policy_decides_what_a_finding_costs(action: str, expected: list[float]) -> None:
    book = ScoreBook(
        results=[
            CheckResult("a", "pool2d", "", "passed", 5.0),
            CheckResult("b", "pool2d", "", "failed", 5.0),
        ],
        operations={"pool2d": ["torch.nn.functional.max_pool2d"]},
    )
    policy = IntegrityPolicy(action=action, deduct=0.25, forbidden={})  # type: ignore[arg-type]

    assert [a.points for a in adjustments(book, policy)] == expected


def test_a_deduction_never_takes_more_than_the_item_earned() -> None:
    book = ScoreBook(
        results=[CheckResult("a", "corr2d", "", "failed", 10.0)],
        operations={"corr2d": ["torch.nn.functional.conv2d"]},
    )

    assert adjustments(book, IntegrityPolicy(action="zero")) == []


def test_groups_expand_and_names_match_by_their_last_part() -> None:
    policy = load_integrity_policy({"forbidden": {"pool2d": ["pooling", "unfold"]}}, "rubric")

    assert policy is not None
    assert policy.action == "flag"
    assert policy.found(
        "pool2d",
        ["torch.nn.functional.max_pool2d", "torch.Tensor.max", "torch.nn.functional.unfold"],
    ) == ["torch.nn.functional.max_pool2d", "torch.nn.functional.unfold"]
    assert policy.found("corr2d", ["torch.nn.functional.conv2d"]) == []


@pytest.mark.parametrize(
    ("table", "named"),
    [
        ({"action": "expel"}, "action"),
        ({"deduct": 2}, "deduct"),
        ({"forbidden": {"corr2d": "convolution"}}, "forbidden.corr2d"),
    ],
)
def test_a_bad_rule_names_its_key(table: dict, named: str) -> None:
    with pytest.raises(ConfigurationError, match=named):
        load_integrity_policy(table, "rubric.toml: [integrity]")


def test_the_shipped_rules_follow_the_homeworks_intent() -> None:
    policy = load_integrity()

    assert policy is not None
    assert policy.action == "deduct"
    assert set(policy.forbidden) == {
        "corr2d",
        "corr2d_multi_in",
        "corr2d_multi_in_out",
        "corr2d_multi_in_out_1x1",
        "pool2d",
    }
    # loop-free styles the checks accept stay allowed
    assert not policy.found("corr2d", ["torch.nn.functional.unfold", "torch.einsum"])
    assert not policy.found("corr2d_multi_in_out_1x1", ["torch.matmul"])
