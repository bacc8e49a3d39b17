"""Every op in the engine, against the shared op table: forward vs ``math``, gradient vs central differences.

The table (``autograd.testing.optable``) says, for each op, how to call it on Values,
an independent float reference written with ``math``, its domain and its kinks.
SymPy derivatives of the same rows are checked in ``test_sympy.py``.
"""

from __future__ import annotations

import math
import struct
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from valuegrad import autograd
from valuegrad.autograd import Value, ops
from valuegrad.autograd.testing.optable import ROWS, OpRow, row
from valuegrad.autograd.testing.oracles import central_differences, close
from valuegrad.autograd.testing.strategies import op_inputs

ROW_IDS = [r.name for r in ROWS]


def _engine(r: OpRow, xs: tuple[float, ...], cs: tuple[float, ...]) -> tuple[Value, list[Value]]:
    leaves = [Value(x) for x in xs]
    return r.on_values(*leaves, *cs), leaves


# ---------------------------------------------------------------- table coverage


def test_every_engine_op_is_in_the_table() -> None:
    """Each ``Op`` object in ops.py is produced by at least one row (so nothing is left untested)."""
    engine_ops = {name: op for name, op in vars(ops).items() if isinstance(op, ops.Op)}
    produced = set()
    for r in ROWS:
        xs = tuple(max(iv.lo, min(iv.hi, 0.7 + 0.1 * k)) for k, iv in enumerate(r.domain))
        cs = tuple(max(iv.lo, min(iv.hi, 2.0)) for iv in r.constants)
        out, _ = _engine(r, xs, cs)
        assert out.op == r.engine_op, f"{r.name} made a {out.op!r} node, the table says {r.engine_op!r}"
        produced.add(out.op)
    missing = sorted(name for name, op in engine_ops.items() if op.name not in produced)
    assert not missing, f"ops.py has ops no table row exercises: {missing}"


def test_row_names_are_unique_and_rows_are_found_by_name() -> None:
    assert len(set(ROW_IDS)) == len(ROW_IDS)
    assert row("x ** y").engine_op == "pow"
    with pytest.raises(KeyError, match="no op row named"):
        row("x ** nothing")


# ------------------------------------------------------------- (a) forward


@pytest.mark.parametrize("r", ROWS, ids=ROW_IDS)
@given(data=st.data())
def test_forward_matches_math_reference(r: OpRow, data: Any) -> None:
    # Right next to kinks is fine here; only the poles themselves (where math raises) are left out.
    xs, cs = data.draw(op_inputs(r, margin=1e-6), label="inputs, constants")
    out, _ = _engine(r, xs, cs)
    expected = r.on_floats(*xs, *cs)
    assert math.isclose(out.data, expected, rel_tol=1e-12, abs_tol=1e-12), (out.data, expected)


# ----------------------------------------------- (b) gradient vs central differences


@pytest.mark.parametrize("r", ROWS, ids=ROW_IDS)
@given(data=st.data())
def test_gradient_matches_central_differences(r: OpRow, data: Any) -> None:
    xs, cs = data.draw(op_inputs(r), label="inputs, constants")
    out, leaves = _engine(r, xs, cs)
    analytic = autograd.gradients(out, leaves)
    numeric = central_differences(lambda *p: r.on_floats(*p, *cs), xs)
    for i, (a, n) in enumerate(zip(analytic, numeric)):
        assert close(a, n, rel=1e-6, abs_=1e-6), f"d/d{i}: engine {a!r}, numeric {n!r}"


def test_the_central_difference_oracle_rejects_a_wrong_derivative() -> None:
    """The check above can fail: sin's derivative is not -cos."""
    (numeric,) = central_differences(math.sin, (0.3,))
    assert close(math.cos(0.3), numeric, rel=1e-6, abs_=1e-6)
    assert not close(-math.cos(0.3), numeric, rel=1e-6, abs_=1e-6)


# ------------------------------------------------------------- kinks, as decided


KINK_CONVENTIONS = [
    ("x.relu()", (0.0,), (), [0.0]),
    ("abs(x)", (0.0,), (), [0.0]),
    ("x.hard_tanh()", (1.0,), (), [0.0]),
    ("x.hard_tanh()", (-1.0,), (), [0.0]),
    ("x.leaky_relu(c)", (0.0,), (0.2,), [0.2]),
    ("x.leaky_relu()", (0.0,), (), [0.01]),
    ("x.elu(c)", (0.0,), (0.5,), [0.5]),
    ("max(x, y, z)", (2.0, 2.0, 1.0), (), [1.0, 0.0, 0.0]),
    ("max(x, y, z)", (1.0, 3.0, 3.0), (), [0.0, 1.0, 0.0]),
    ("hypot(x, y)", (0.0, 0.0), (), [0.0, 0.0]),
    ("hypot(x, y)", (-0.0, 0.0), (), [0.0, 0.0]),
    ("x.hypot(c)", (0.0,), (0.0,), [0.0]),
    ("hypot(c, x)", (0.0,), (-0.0,), [0.0]),
]


@pytest.mark.parametrize(("name", "xs", "cs", "expected"), KINK_CONVENTIONS)
def test_one_sided_choices_at_kinks(
    name: str, xs: tuple[float, ...], cs: tuple[float, ...], expected: list[float]
) -> None:
    """The decided kinks (README): relu'(0) = abs'(0) = 0, hard_tanh'(±1) = 0, alpha at 0, max takes the first."""
    out, leaves = _engine(row(name), xs, cs)
    assert autograd.gradients(out, leaves) == expected


def test_every_rows_arity_agrees_with_the_engine_rows() -> None:
    """A test row passes as many Values as its engine row takes (n-ary rows: any number)."""
    for r in ROWS:
        assert r.op is ops.by_name(r.engine_op)
        assert r.op.arity in (r.arity, ops.NARY), r.name
    with pytest.raises(ValueError, match=r"'x \* x': 1 inputs, but the engine's 'mul' takes 2"):
        OpRow("x * x", "mul", lambda x: x * x, lambda x: x * x, lambda sp, x: x * x, (row("x + y").domain[0],))


@pytest.mark.parametrize("r", [r for r in ROWS if r.arity == 1], ids=[r.name for r in ROWS if r.arity == 1])
def test_under_no_grad_every_unary_row_computes_the_same_value_without_parents(r: OpRow) -> None:
    """Under no_grad every row still computes the same number and records no parents."""
    xs = (min(r.domain[0].hi, max(r.domain[0].lo, 0.5)),)
    cs = tuple(max(iv.lo, min(iv.hi, 2.0)) for iv in r.constants)
    with autograd.no_grad():
        out, _ = _engine(r, xs, cs)
    assert out.parents == ()
    assert math.isclose(out.data, r.on_floats(*xs, *cs), rel_tol=1e-12, abs_tol=1e-12)


# ------------------------------------------------------- accuracy in the tails

TAIL_DERIVATIVES = [
    ("sigmoid", lambda v: v.sigmoid(), lambda x: math.exp(-x) / (1.0 + math.exp(-x)) ** 2, 35.0),
    ("tanh", lambda v: v.tanh(), lambda x: 1.0 / math.cosh(x) ** 2, 19.0),
    ("elu", lambda v: v.elu(), math.exp, -35.0),
]


@pytest.mark.parametrize(("name", "f", "exact", "x"), TAIL_DERIVATIVES, ids=[t[0] for t in TAIL_DERIVATIVES])
def test_derivatives_keep_relative_accuracy_in_the_tails(name: str, f: Any, exact: Any, x: float) -> None:
    got, want = autograd.grad(f)(x), exact(x)
    assert abs(got - want) <= 1e-12 * want, f"{name}'({x}) = {got!r}, exactly {want!r}"


# ------------------------------------------------------------------- hypot


def test_hypot_forward_and_gradient() -> None:
    x, y = Value(3.0), Value(-4.0)
    h = x.hypot(y)
    assert h.data == 5.0 and h.op == "hypot" and h.parents == (x, y) and h.op_symbol == "hypot"
    assert autograd.gradients(h, [x, y]) == [0.6, -0.8]
    assert autograd.hypot(x, y).data == 5.0 and autograd.hypot(x, y).parents == (x, y)


def test_a_plain_number_folds_into_one_hypot_node_on_either_side() -> None:
    x = Value(3.0)
    for h in (x.hypot(4.0), x.hypot(4), autograd.hypot(x, 4.0), autograd.hypot(4.0, x)):
        assert h.op == "hypot_const" and h.parents == (x,) and h.constant == 4.0 and h.data == 5.0
        assert h.op_symbol == "hypot(·, 4)"
        assert autograd.gradients(h, [x]) == [0.6]
    both_numbers = autograd.hypot(3, 4)
    assert both_numbers.data == 5.0 and both_numbers.parents[0].is_leaf
    with pytest.raises(TypeError, match=r"hypot\(\) takes a Value or a real number, got str"):
        x.hypot("4")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"Value\(\) takes a real number"):
        autograd.hypot("3", 4)  # type: ignore[arg-type]


@given(st.floats(allow_nan=True), st.floats(allow_nan=True))
def test_hypot_is_symmetric_bit_for_bit_and_is_math_hypot(a: float, b: float) -> None:
    """So ``hypot(c, x)`` may fold into the same row as ``x.hypot(c)``, as ``c * x`` does into ``mul_const``."""
    h = ops.HYPOT.forward(a, b)
    assert _bits(h) == _bits(ops.HYPOT.forward(b, a)) == _bits(autograd.hypot(a, Value(b)).data)
    assert _bits(h) == _bits(autograd.hypot(Value(a), b).data) == _bits(Value(a).hypot(Value(b)).data)
    expected = math.hypot(a, b)
    assert h == expected or (h != h and expected != expected)


def _bits(x: float) -> bytes:
    return struct.pack("<d", x)


# ------------------------------------------------ (c) rows whose partials stay finite

BOUNDED_ROWS = [r for r in ROWS if r.engine_op in ops.BOUNDED_PARTIALS]
#: Any finite double, the extremes and subnormals included.
ANY_FINITE = st.floats(allow_nan=False, allow_infinity=False)


def test_every_bounded_row_is_checked() -> None:
    assert {r.engine_op for r in BOUNDED_ROWS} == ops.BOUNDED_PARTIALS


@pytest.mark.parametrize("r", BOUNDED_ROWS, ids=[r.name for r in BOUNDED_ROWS])
@given(data=st.data())
def test_a_bounded_rows_partials_are_finite_wherever_its_numbers_are(r: OpRow, data: Any) -> None:
    """What ``ops.BOUNDED_PARTIALS`` promises, and the compiled zero-seed skip relies on: finite
    operands, constants and result give finite partials (``x / y`` fails this, at y = 1e-310)."""
    xs = data.draw(st.tuples(*[ANY_FINITE] * r.arity), label="inputs")
    cs = data.draw(st.tuples(*[ANY_FINITE] * len(r.constants)), label="constants")
    try:
        out, leaves = _engine(r, xs, cs)
    except (ValueError, OverflowError):  # outside the row's domain: no number, nothing to check
        return
    if math.isfinite(out.data):
        assert all(map(math.isfinite, autograd.gradients(out, leaves))), (xs, cs)
