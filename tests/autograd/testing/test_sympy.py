"""First and second derivatives against SymPy: every op of the table, and random expression DAGs.

SymPy differentiates each row (and each drawn expression) symbolically once; the
compiled derivative is then evaluated in float64 at the drawn point. Second
derivatives come from the engine twice over: ``gradients(..., create_graph=True)``
differentiated again, and (for one-input ops) ``grad(grad(f))``.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from valuegrad import autograd
from valuegrad.autograd import Value
from valuegrad.autograd.testing.optable import ROWS, OpRow, row
from valuegrad.autograd.testing.oracles import central_differences, close
from valuegrad.autograd.testing.strategies import Expression, expressions, op_inputs
from valuegrad.autograd.testing.symbolic import SympyTwin, row_twin

ROW_IDS = [r.name for r in ROWS]
UNARY_ROWS = [r for r in ROWS if r.arity == 1]


def assert_close(engine: Sequence[Any], reference: Sequence[Any], what: str, rel: float, abs_: float) -> None:
    """Elementwise ``close`` (gradcheck's rule), with a message naming the entry."""
    for i, (a, b) in enumerate(zip(engine, reference, strict=True)):
        if isinstance(a, (list, tuple)):
            assert_close(a, b, f"{what}[{i}]", rel, abs_)
            continue
        if not close(a, b, rel, abs_):
            raise AssertionError(f"{what}[{i}]: engine {a!r}, SymPy {b!r}")


def engine_gradient_and_hessian(f: Any, xs: Sequence[float]) -> tuple[float, list[float], list[list[float]]]:
    leaves = [Value(x) for x in xs]
    out = f(*leaves)
    first = autograd.gradients(out, leaves, create_graph=True)
    hessian = [[float(h) for h in autograd.gradients(g, leaves)] for g in first]
    return out.data, [g.data for g in first], hessian


# ------------------------------------------------------------------ every op


@pytest.mark.parametrize("r", ROWS, ids=ROW_IDS)
@given(data=st.data())
def test_op_first_and_second_derivatives_match_sympy(r: OpRow, data: Any) -> None:
    xs, cs = data.draw(op_inputs(r), label="inputs, constants")
    twin = row_twin(r)
    value, gradient, hessian = engine_gradient_and_hessian(lambda *v: r.on_values(*v, *cs), xs)
    assert_close([value], [twin.value(*xs, *cs)], "value", rel=1e-12, abs_=1e-12)
    assert_close(gradient, twin.gradient(*xs, *cs), "gradient", rel=1e-9, abs_=1e-12)
    assert_close(hessian, twin.hessian(*xs, *cs), "hessian", rel=1e-9, abs_=1e-12)


@pytest.mark.parametrize("r", UNARY_ROWS, ids=[r.name for r in UNARY_ROWS])
@given(data=st.data())
def test_op_second_derivative_by_nested_grad_matches_sympy(r: OpRow, data: Any) -> None:
    (x,), cs = data.draw(op_inputs(r), label="input, constants")
    f = lambda v: r.on_values(v, *cs)
    d1 = autograd.grad(f)(x)
    d2 = autograd.grad(autograd.grad(f))(x)
    twin = row_twin(r)
    assert_close([d1, d2], [twin.gradient(x, *cs)[0], twin.hessian(x, *cs)[0][0]], "d1, d2", rel=1e-9, abs_=1e-12)


def test_pow_mixed_second_derivative_at_zero_exponent() -> None:
    """Found by the property test above: ∂/∂y (y·x^(y-1)) = x^(y-1)(1 + y·ln x) is 1/x at y = 0.

    The engine once returned the float 0.0 as the base partial whenever y == 0, which
    under create_graph cut its dependence on y (and made the Hessian asymmetric).
    """
    _, _, hessian = engine_gradient_and_hessian(lambda x, y: x**y, (2.0, 0.0))
    assert_close(hessian, row_twin(row("x ** y")).hessian(2.0, 0.0), "hessian", rel=1e-12, abs_=1e-15)
    assert hessian[0][1] == hessian[1][0] == 0.5


@pytest.mark.parametrize("point", [(3.0, -4.0), (1e-3, 2.0), (-7.5, 0.25), (0.5, 0.5), (-2e-5, -3e-5)])
def test_hypot_second_derivatives_match_sympy_and_central_differences(point: tuple[float, float]) -> None:
    """hypot's Hessian is [[y², -xy], [-xy, x²]] / h³: from the one rule, rebuilt as Values under create_graph."""
    value, gradient, hessian = engine_gradient_and_hessian(lambda x, y: x.hypot(y), point)
    twin = row_twin(row("hypot(x, y)"))
    assert_close([value], [twin.value(*point)], "value", rel=1e-15, abs_=0.0)
    assert_close(gradient, twin.gradient(*point), "gradient", rel=1e-14, abs_=0.0)
    assert_close(hessian, twin.hessian(*point), "hessian", rel=1e-9, abs_=1e-12)
    x, y = point
    h = math.hypot(x, y)
    exact = [[y * y / h**3, -x * y / h**3], [-x * y / h**3, x * x / h**3]]
    assert_close(hessian, exact, "exact", rel=1e-9, abs_=0.0)
    assert_close([hessian[0][1]], [hessian[1][0]], "symmetry", rel=1e-14, abs_=0.0)
    # Central differences of the engine's float gradient, with a step small beside the distance to the kink.
    step = 1e-6 * min(1.0, h)
    for i in range(2):
        numeric = central_differences(lambda a, b, i=i: _hypot_gradient(a, b)[i], point, h=step)
        assert_close(hessian[i], numeric, f"central differences of gradient[{i}]", rel=1e-6, abs_=1e-9)


def _hypot_gradient(x: float, y: float) -> list[float]:
    a, b = Value(x), Value(y)
    return autograd.gradients(a.hypot(b), [a, b])


def test_hypot_with_a_number_nested_grad_matches_sympy() -> None:
    d1 = autograd.grad(lambda v: autograd.hypot(2.0, v))
    d2 = autograd.grad(d1)
    twin = row_twin(row("hypot(c, x)"))
    for x in (-3.0, 0.1, 1.5):
        assert_close([d1(x), d2(x)], [twin.gradient(x, 2.0)[0], twin.hessian(x, 2.0)[0][0]], "d1, d2", 1e-13, 0.0)
        assert d2(x) == pytest.approx(4.0 / math.hypot(x, 2.0) ** 3, rel=1e-13)


def test_the_sympy_comparison_fails_on_a_wrong_gradient() -> None:
    """The oracle has teeth: x * x.data has the value of x² but half its derivative."""
    twin = row_twin(row("x * y"))
    _, gradient, _ = engine_gradient_and_hessian(lambda x, y: x * y.data, (1.5, 2.0))
    with pytest.raises(AssertionError, match=r"gradient\[1\]: engine 0.0, SymPy 1.5"):
        assert_close(gradient, twin.gradient(1.5, 2.0), "gradient", rel=1e-9, abs_=1e-12)
    _, _, hessian = engine_gradient_and_hessian(lambda x: x * x.data, (1.5,))
    with pytest.raises(AssertionError, match="hessian"):
        assert_close(hessian, row_twin(row("x ** n")).hessian(1.5, 2.0), "hessian", rel=1e-9, abs_=1e-12)


# ----------------------------------------------------------- expression DAGs


def _tolerances(expr: Expression) -> tuple[float, float]:
    # A chain of float64 ops loses a few ulps per step; absolute slack scales with the largest node.
    scale = max([1.0, *(abs(v) for v in _node_values(expr))])
    return 1e-8, 1e-10 * scale


def _node_values(expr: Expression) -> list[float]:
    data = list(expr.inputs)
    for step in expr.steps:
        data.append(step.row.on_floats(*(data[a] for a in step.args), *step.constants))
    return data


@settings(max_examples=max(10, settings().max_examples // 2))
@given(expressions(n_inputs=(1, 3), max_ops=7))
def test_expression_gradient_matches_sympy(expr: Expression) -> None:
    twin: SympyTwin = expr.sympy()
    leaves = [Value(x) for x in expr.inputs]
    out = expr.on_values(*leaves)
    rel, abs_ = _tolerances(expr)
    assert_close([out.data, expr.on_floats(*expr.inputs)], [twin.value(*expr.inputs)] * 2, "value", rel, abs_)
    out.backward()
    assert_close([v.grad for v in leaves], twin.gradient(*expr.inputs), "gradient", rel, abs_)


@settings(max_examples=max(5, settings().max_examples // 4))
@given(expressions(n_inputs=(1, 2), max_ops=5))
def test_expression_hessian_matches_sympy(expr: Expression) -> None:
    _, _, hessian = engine_gradient_and_hessian(expr.on_values, expr.inputs)
    rel, abs_ = _tolerances(expr)
    assert_close(hessian, expr.sympy().hessian(*expr.inputs), "hessian", rel, 10 * abs_)


def test_a_hand_built_fan_out_dag_matches_sympy() -> None:
    """t = x*y feeds three places; x feeds two: the adjoints are sums over every use."""
    import sympy

    x, y = sympy.symbols("x0 x1", real=True)
    t = x * y
    twin = SympyTwin(sympy.sin(t) + t * t + sympy.exp(t) * x, (x, y))

    def f(a: Value, b: Value) -> Value:
        t = a * b
        return t.sin() + t * t + t.exp() * a

    _, gradient, hessian = engine_gradient_and_hessian(f, (0.7, -0.4))
    assert_close(gradient, twin.gradient(0.7, -0.4), "gradient", rel=1e-12, abs_=1e-14)
    assert_close(hessian, twin.hessian(0.7, -0.4), "hessian", rel=1e-12, abs_=1e-14)


def test_sympy_is_not_imported_by_autograd() -> None:
    import subprocess
    import sys

    code = "import sys, valuegrad.autograd, valuegrad.autograd.testing\n"
    code += "print('sympy' in sys.modules, 'hypothesis' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "True"]
    code = "import sys, valuegrad.autograd; print('sympy' in sys.modules, 'hypothesis' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]


def test_kinked_twins_build_fast_on_nested_periodic_arguments() -> None:
    """Piecewise twins of relu(sin(...)) nests stalled SymPy for minutes; the opaque kinks take milliseconds."""
    import time

    import sympy

    from valuegrad.autograd.testing.kinks import kinks

    k = kinks()
    x, y = sympy.symbols("x0 x1", real=True)
    expr = k.abs(k.relu(sympy.sin(x) * sympy.cos(y)) - k.hard_tanh(sympy.tan(x))) + k.max(sympy.sin(2 * x), y, x)
    expr = k.elu(k.leaky_relu(expr, sympy.Rational(1, 10)), 1) * sympy.sin(expr)
    start = time.perf_counter()
    twin = SympyTwin(expr, (x, y))
    hessian = twin.hessian(0.3, -0.7)
    assert time.perf_counter() - start < 20
    assert all(math.isfinite(h) for row in hessian for h in row)


@pytest.mark.parametrize(
    ("name", "engine_op", "x"),
    [("relu", "relu", 0.0), ("abs", "abs", 0.0), ("hard_tanh", "hard_tanh", 1.0), ("hard_tanh", "hard_tanh", -1.0)],
)
def test_kink_twins_take_the_engines_one_sided_derivative(name: str, engine_op: str, x: float) -> None:
    import sympy

    from valuegrad.autograd.testing.kinks import kinks

    u = sympy.Symbol("u", real=True)
    twin = SympyTwin(getattr(kinks(), name)(u), (u,))
    leaf = Value(x)
    getattr(leaf, engine_op)().backward()
    assert twin.gradient(x) == [leaf.grad]


@pytest.mark.parametrize("name", ["leaky_relu", "elu"])
def test_kink_twins_with_alpha_take_alpha_at_zero(name: str) -> None:
    import sympy

    from valuegrad.autograd.testing.kinks import kinks

    u = sympy.Symbol("u", real=True)
    twin = SympyTwin(getattr(kinks(), name)(u, sympy.Rational(3, 10)), (u,))
    leaf = Value(0.0)
    getattr(leaf, name)(0.3).backward()
    assert twin.gradient(0.0) == [leaf.grad] == [0.3]


def test_twins_evaluate_sympys_own_sign_and_dirac_delta() -> None:
    """SymPy rewrites (2x²)**2.0 as 16·|x|**8.0; its Hessian brings sign and DiracDelta (found by Hypothesis)."""
    import sympy

    x = sympy.Symbol("x0", real=True)
    twin = SympyTwin((2 * x**2) ** 2.0, (x,))
    _, gradient, hessian = engine_gradient_and_hessian(lambda v: (2 * v * v) ** 2.0, (-0.5,))
    assert_close(gradient, twin.gradient(-0.5), "gradient", rel=1e-12, abs_=1e-14)
    assert_close(hessian, twin.hessian(-0.5), "hessian", rel=1e-12, abs_=1e-14)
