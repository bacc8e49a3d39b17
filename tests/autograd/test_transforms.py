"""Function transforms nest by levels: floats at the outermost level, Values of an enclosing transform stay live."""

from __future__ import annotations

import math
from typing import Any, Callable

import pytest

from valuegrad import autograd
from valuegrad.autograd import Value, grad, hessian, jacobian, no_grad, value_and_grad

FLOAT_CASES: list[tuple[str, Callable[[], Any], float]] = [
    ("logsumexp with a number", lambda: grad(lambda x: autograd.logsumexp([x, 1.0]))(0.5), 1 / (1 + math.exp(0.5))),
    ("max with a number", lambda: grad(lambda x: autograd.max([x, 0.0]))(0.5), 1.0),
    ("a Value made inside f", lambda: grad(lambda x: x + Value(2.0))(0.5), 1.0),
    ("grad of grad of relu", lambda: grad(grad(lambda x: x.relu()))(1.0), 0.0),
    ("grad of grad of identity", lambda: grad(grad(lambda x: x))(2.0), 0.0),
    ("inner grad independent of x", lambda: grad(lambda x: x * grad(lambda y: x + y)(1.0))(2.0), 1.0),
    ("inner grad is x", lambda: grad(lambda x: x * grad(lambda y: x * y)(3.0))(2.0), 4.0),
]


@pytest.mark.parametrize("case", FLOAT_CASES, ids=[c[0] for c in FLOAT_CASES])
def test_grad_of_plain_numbers_is_a_float(case: tuple[str, Callable[[], Any], float]) -> None:
    _, run, expected = case
    result = run()
    assert type(result) is float
    assert result == pytest.approx(expected, rel=1e-15)


def test_a_captured_value_is_a_constant_and_its_grad_untouched() -> None:
    w = Value(3.0)
    assert grad(lambda x: w * x * x)(2.0) == 12.0
    assert grad(lambda x: w * x)(w) == 3.0  # differentiating at w itself: the closure's w is a constant
    assert w.grad == 0.0


def test_third_derivative_and_hessian_and_jacobian() -> None:
    t = math.tanh(0.5)
    assert grad(grad(grad(lambda x: x.tanh())))(0.5) == pytest.approx(-2 + 8 * t**2 - 6 * t**4, rel=1e-12)
    assert hessian(lambda x, y: x * x * y, argnums=(0, 1))(1.0, 2.0) == [[4.0, 2.0], [2.0, 0.0]]
    assert hessian(lambda x, y: x * x * y, argnums=0)(3.0, 2.0) == [[4.0]]
    assert jacobian(lambda x, y: [x * y, x + y, x.sin()], argnums=(0, 1))(2.0, 3.0) == [
        (3.0, 2.0),
        (1.0, 1.0),
        (math.cos(2.0), 0.0),
    ]
    assert jacobian(lambda x: x * x)(3.0) == 6.0
    # inside an outer transform they stay differentiable: d/dx of (d²/dy² x·y³ at y = 1) = 6
    assert grad(lambda x: hessian(lambda y: x * y**3)(1.0)[0][0])(2.0) == 6.0


@pytest.mark.parametrize("transform", [grad, value_and_grad, hessian, jacobian])
def test_transforms_agree_on_bad_input(transform: Callable[..., Any]) -> None:
    name = transform.__name__
    with pytest.raises(
        TypeError, match=rf"^{name}: the function must return a scalar \(a Value or a number\), got NoneType"
    ):
        transform(lambda x: None)(1.0)
    with pytest.raises(TypeError, match=rf"^{name}: argument 0 must be a number .*got bool True"):
        transform(lambda x: x)(True)
    with pytest.raises(TypeError, match=rf"^{name}: argnums must be a whole number"):
        transform(lambda x: x, argnums=True)
    with pytest.raises(TypeError, match=rf"^{name}: f must be callable"):
        transform(5)
    with pytest.raises(ValueError, match=rf"^{name}: argnums 3 does not fit"):
        transform(lambda x: x, argnums=3)(1.0)


@pytest.mark.parametrize("transform", [grad, hessian, jacobian])
def test_transforms_accept_a_value_argument_the_same_way(transform: Callable[..., Any]) -> None:
    plain, boxed = transform(lambda x: x**3)(2.0), transform(lambda x: x**3)(Value(2.0))
    assert plain == boxed


def test_a_function_ignoring_its_input_has_zero_gradient_everywhere() -> None:
    assert grad(lambda x: 5.0)(1.0) == 0.0
    assert hessian(lambda x: 5.0)(1.0) == [[0.0]]
    assert value_and_grad(lambda x: 5)(1.0) == (5.0, 0.0)


def test_transforms_record_inside_no_grad() -> None:
    with no_grad():
        assert grad(lambda x: x * x)(3.0) == 6.0
        assert hessian(lambda x: x**3)(2.0) == [[12.0]]


# ------------------------------------------------------------ numbers, hooks


def test_a_huge_integer_exponent_keeps_its_parity() -> None:
    assert (Value(-2.0) ** (10**400 + 1)).data == -math.inf
    assert (Value(-2.0) ** (10**400)).data == math.inf
    assert (Value(-0.5) ** (10**400 + 1)).data == 0.0 and math.copysign(1, (Value(-0.5) ** (10**400 + 1)).data) == -1
    assert (Value(-1.0) ** (10**400 + 1)).data == -1.0
    assert (Value(-2.0) ** -(10**400 + 1)).data == 0.0


def test_a_hook_returning_text_is_a_clear_type_error() -> None:
    x = Value(2.0)
    y = x * x
    y.register_hook(lambda g: "oops")
    with pytest.raises(TypeError, match=r"a gradient hook returned str 'oops'.*return None"):
        y.backward()
