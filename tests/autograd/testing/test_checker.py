"""check_derivative: a student's derivative against the engine, with a message that says what is wrong."""

from __future__ import annotations

import doctest
import math
import re

import pytest

from valuegrad.autograd.testing import check_derivative, checker, explain_derivative


def sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x))


def test_a_right_derivative_passes() -> None:
    check_derivative(lambda x: x.tanh(), lambda x: 1 - math.tanh(x) ** 2)
    check_derivative(lambda x: x.sigmoid(), lambda x: sigmoid(x) * (1 - sigmoid(x)), domain=(-20, 20))
    check_derivative(lambda w, x, b: w * x + b, lambda w, x, b: (x, w, 1.0), domain=[(-3, 3)] * 3)


def test_a_flipped_sign_fails_with_input_expected_and_got() -> None:
    with pytest.raises(AssertionError) as failure:
        check_derivative(lambda x: x.cos(), lambda x: math.sin(x))  # should be -sin
    message = str(failure.value)
    match = re.search(r"at x = (\S+): expected (\S+) \(the engine\), got (\S+) \(yours\)", message)
    assert match, message
    x, expected, got = (float(g) for g in match.groups())
    assert expected == pytest.approx(-math.sin(x)) and got == pytest.approx(math.sin(x)) and got != 0


def test_the_message_names_the_wrong_partial() -> None:
    message = explain_derivative(lambda w, x: w * x, lambda w, x: (x, -w), domain=[(-2, 2), (-2, 2)])
    assert message.startswith("Wrong partial derivative with respect to x at w = "), message
    assert "expected" in message and "got" in message


def test_the_counterexample_is_shrunk_to_a_simple_input() -> None:
    message = explain_derivative(lambda x: x * x, lambda x: x, domain=(-5, 5))
    assert message.startswith("Wrong derivative at x = 1.0: expected 2.0 (the engine), got 1.0 (yours)."), message


def test_kinks_are_not_tried() -> None:
    # |x|'s derivative is sign(x) away from 0; at 0 any answer in [-1, 1] is a subgradient, so 0 is not tried.
    check_derivative(lambda x: abs(x), lambda x: 1.0 if x > 0 else -1.0, kinks=[0.0])
    check_derivative(lambda x: x.relu(), lambda x: 1.0 if x > 0 else 0.0, kinks=[0.0], margin=0.5)


def test_a_wrong_answer_at_the_kink_only_is_found_without_the_kink() -> None:
    message = explain_derivative(lambda x: x.relu(), lambda x: 1.0 if x >= 0 else 0.0)
    assert message.startswith("Wrong derivative at x = 0.0: expected 0.0"), message


def test_the_domain_is_respected() -> None:
    # log's derivative is 1/x only where log is defined; outside (0.1, 10) nothing is tried.
    check_derivative(lambda x: x.log(), lambda x: 1 / x, domain=(0.1, 10))
    # A derivative wrong only for x > 5 passes on (-5, 5) and fails on (-5, 6).
    almost = lambda x: 2 * x if x <= 5 else 0.0
    check_derivative(lambda x: x * x, almost, domain=(-5, 5))
    message = explain_derivative(lambda x: x * x, almost, domain=(-5, 6))
    assert message.startswith("Wrong derivative at x = ") and "got 0.0" in message


def test_an_unfinished_answer_is_reported_not_raised() -> None:
    def unfinished(x: float) -> float:
        raise NotImplementedError("write the derivative here")

    message = explain_derivative(lambda x: x.exp(), unfinished)
    assert message.startswith("Your derivative raised at x = ") and "expected" in message
    assert "got NotImplementedError: write the derivative here" in message
    assert "got None" in explain_derivative(lambda x: x.exp(), lambda x: None)


def test_a_wrong_number_of_partials_is_named() -> None:
    message = explain_derivative(lambda x, y: x * y, lambda x, y: y, domain=[(0, 1), (0, 1)])
    assert message.startswith("Wrong number of partials at x = 0.0, y = 0.0: expected 2"), message


def test_right_is_said_in_words() -> None:
    assert explain_derivative(lambda x: x.exp(), math.exp).startswith("Right")


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(TypeError, match="both must be callables"):
        check_derivative(lambda x: x, 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="greater than"):
        check_derivative(lambda x: x, lambda x: 1.0, domain=(1, 0))


def test_docstring_examples_run() -> None:
    result = doctest.testmod(checker, optionflags=doctest.ELLIPSIS)
    assert result.attempted >= 4 and result.failed == 0
