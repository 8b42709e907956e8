"""What a wrong tensor looks like in a message: readable, and never "expected x, got x"."""

import pytest
import torch

from grader.checking.compare import CheckFailure, check_equal, check_tensor


def message(expected: torch.Tensor, got: torch.Tensor) -> str:
    with pytest.raises(CheckFailure) as info:
        check_tensor(expected, got, what="f(X)", inputs={})
    return str(info.value)


def test_a_small_matrix_prints_row_by_row_with_its_largest_difference() -> None:
    text = message(
        torch.tensor([[19.0, 25.0], [37.0, 43.0]]), torch.tensor([[5.0, 11.0], [23.0, 29.5]])
    )

    assert text == (
        "f(X): wrong values\n"
        "  expected (shape (2, 2)):\n"
        "    [[19.0, 25.0],\n"
        "     [37.0, 43.0]]\n"
        "  got:\n"
        "    [[ 5.0, 11.0],\n"
        "     [23.0, 29.5]]\n"
        "  largest difference 14 at index (0, 0): expected 19, got 5"
    )


def test_values_that_print_alike_still_show_where_they_differ() -> None:
    expected = torch.tensor([[0.12340, 0.5]])
    got = torch.tensor([[0.12345, 0.5]]) + torch.tensor([[0.0, 0.004]])

    text = message(expected, got)

    assert "largest difference 0.004 at index (0, 1): expected 0.5, got 0.504" in text


def test_a_large_tensor_shows_its_first_and_its_largest_difference() -> None:
    expected = torch.zeros(10, 10)
    got = expected.clone()
    got[0, 3], got[7, 2] = 0.5, -2.0

    text = message(expected, got)

    assert text.endswith(
        "first difference at index (0, 3): expected 0, got 0.5; "
        "largest difference 2 at index (7, 2): expected 0, got -2"
    )


def test_two_lists_of_layers_say_where_they_first_differ() -> None:
    with pytest.raises(CheckFailure) as info:
        check_equal(
            ["Conv2d", "Sigmoid", "AvgPool2d"],
            ["Conv2d", "ReLU", "AvgPool2d"],
            what="LeNet().net",
            problem="wrong layers",
        )

    assert str(info.value).endswith(
        "\n  first difference at position 2 (counting from 1): expected 'Sigmoid', got 'ReLU'"
    )


def test_a_shorter_list_says_what_is_missing_first() -> None:
    with pytest.raises(CheckFailure) as info:
        check_equal(["Linear", "ReLU", "Dropout"], ["Linear", "ReLU"], what="net", problem="p")

    assert str(info.value).endswith(
        "first difference at position 3 (counting from 1): expected 'Dropout', got nothing more"
    )
