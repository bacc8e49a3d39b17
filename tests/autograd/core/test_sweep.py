"""One reverse sweep, several ways of running it: they must give the same adjoints.

The float fast path (``backward``), ``gradients``, anomaly mode and ``backward_steps``
(what the drawings show) agree bit for bit; ``create_graph`` agrees to rounding (its
sech² is built from sigmoid nodes). Also: the op table's forwards are the ones that run,
names are unique, the float and Value namespaces of special functions are the same.
"""

from __future__ import annotations

import math
import operator
import pickle
import struct

import pytest
from hypothesis import given, settings

from valuegrad import autograd
from valuegrad.autograd import Value, backward_steps, detect_anomaly, gradients, jit, ops
from valuegrad.autograd.core.sweep import GraphMath
from valuegrad.autograd.testing import strategies as vst


def bits(x: float) -> bytes:
    """The exact float64 (so -0.0 differs from 0.0 and nan equals nan)."""
    return struct.pack("<d", x)


@settings(max_examples=60, deadline=None)
@given(vst.expressions(max_ops=8))
def test_every_way_of_running_the_sweep_gives_the_same_adjoints(expr: vst.Expression) -> None:
    leaves = [Value(x) for x in expr.inputs]
    out = expr.on_values(*leaves)

    out.backward()
    fast = [leaf.grad for leaf in leaves]
    general = gradients(out, leaves)
    with detect_anomaly():
        checked = gradients(out, leaves)
    steps = list(backward_steps(out))
    walked = [steps[-1].adjoints.get(leaf, 0.0) for leaf in leaves]
    graph = [g.data for g in gradients(out, leaves, create_graph=True)]
    value, compiled = jit(expr.on_values, argnums=tuple(range(len(leaves))))(*expr.inputs)

    assert [bits(g) for g in general] == [bits(g) for g in fast]
    assert bits(value) == bits(out.data)
    # Replay adds the same terms in the same order; only a zero's sign may differ (the engine starts from 0.0).
    assert [bits(g + 0.0) for g in compiled] == [bits(g + 0.0) for g in fast]
    assert [bits(g) for g in checked] == [bits(g) for g in fast]
    assert [bits(g) for g in walked] == [bits(g) for g in fast]
    for a, b in zip(graph, fast):
        assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12), (graph, fast)


def test_backward_steps_visits_every_node_once_with_final_adjoints() -> None:
    x, y = Value(2.0, "x"), Value(3.0, "y")
    z = x * y + x
    steps = list(backward_steps(z))
    assert steps[0].node is z
    assert {id(s.node) for s in steps} == {id(v) for v in autograd.topological_order(z)}
    by_node = {s.node: s for s in steps}
    assert by_node[x].adjoint == 4.0 and by_node[x].terms == ()
    product = z.parents[0]
    assert [(t.parent, t.derivative, t.contribution) for t in by_node[product].terms] == [(x, 3.0, 3.0), (y, 2.0, 2.0)]
    assert x.grad == 0.0  # it never touches .grad


def test_anomaly_mode_doubling_would_be_caught() -> None:
    """What the agreement test is for: anomaly mode is a separate way to run the sweep."""
    x = Value(0.5)
    out = (x * x).tanh()
    with detect_anomaly():
        assert gradients(out, [x]) == gradients(out, [x])
    assert gradients(out, [x])[0] == pytest.approx(2 * 0.5 * (1 - math.tanh(0.25) ** 2), rel=1e-15)


# ------------------------------------------------------------- the op table


def test_op_names_are_unique_and_rows_pickle_by_name() -> None:
    rows = [v for v in vars(ops).values() if isinstance(v, ops.Op)]
    assert len({r.name for r in rows}) == len(rows)
    assert set(ops.ALL.values()) == set(rows)
    for r in rows:
        assert pickle.loads(pickle.dumps(r)) is r
    with pytest.raises(ValueError, match="two op rows are named 'exp'"):
        ops._row("exp", "exp", 1, math.exp, lambda F, xs, out, c: (out,))
    assert ops.ALL["exp"] is ops.EXP


def test_a_row_takes_one_or_two_parents_or_any_number() -> None:
    for arity in (0, 3, -1, 2.5):
        with pytest.raises(ValueError, match=r"has arity .*1 or 2 parents, or NARY"):
            ops._row("nosuch", "?", arity, math.exp, lambda F, xs, out, c: (out,))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="only a unary row has a constant"):
        ops._row("nosuch", "?", 2, math.hypot, lambda F, xs, out, c: (out,), None, "alpha")
    assert "nosuch" not in ops.ALL
    assert {op.arity for op in ops.ALL.values()} == {1, 2, ops.NARY}


def test_unary_functions_are_the_rows_made_as_functions_each_a_value_method() -> None:
    made_as_functions = {"abs", "exp", "log", "sqrt", "sin", "cos", "tanh", "sigmoid", "relu"}
    assert made_as_functions <= set(ops.UNARY) and not {"neg", "add_const", "sum", "dot"} & set(ops.UNARY)
    for name, row in ops.UNARY.items():
        assert ops.ALL[name] is row and callable(getattr(Value, name))
    assert {name: row for name, row in ops.FUNCTIONS.items() if row.arity == 1} == ops.UNARY


def test_binary_and_nary_functions_are_engine_functions_of_their_name() -> None:
    from valuegrad.autograd import core

    others = {name: row for name, row in ops.FUNCTIONS.items() if row.arity != 1}
    assert {"hypot", "max", "logsumexp"} <= set(others) and not {"sum", "dot", "add"} & set(ops.FUNCTIONS)
    for name, row in others.items():
        assert ops.ALL[name] is row and callable(getattr(core, name)) and callable(getattr(autograd, name))
        if row.arity == 2:
            assert callable(getattr(Value, name))  # x.hypot(y) too


@pytest.mark.parametrize("row", list(ops.ALL.values()), ids=list(ops.ALL))
def test_apply_calls_forward_as_the_arity_says(row: ops.Op) -> None:
    """One convention for every row: ``forward(x, c)``, ``forward(x, y)`` or ``forward(xs, c)``."""
    data = {1: [0.5], 2: [0.5, 2.0], ops.NARY: [0.5, 2.0, -1.0]}[row.arity]
    c = {"sum": 1.5, "dot": ops.DotConst((1.0, 2.0, 3.0), 0.25)}.get(row.name, 2.0 if row.arity == 1 else None)
    if row.arity == 2:
        expected = row.forward(*data)
    elif row.arity == 1:
        expected = row.forward(data[0], c)
    else:
        expected = row.forward(data, c)
    assert bits(row.apply(data, c)) == bits(expected)


INLINE = [  # the dunders that apply their row's forward inline, for speed
    (lambda a, b: a + b, ops.ADD, False),
    (lambda a, b: a - b, ops.SUB, False),
    (lambda a, b: a * b, ops.MUL, False),
    (lambda a, c: a + c, ops.ADD_CONST, True),
    (lambda a, c: c + a, ops.ADD_CONST, True),
    (lambda a, c: a * c, ops.MUL_CONST, True),
    (lambda a, c: c * a, ops.MUL_CONST, True),
]


@pytest.mark.parametrize("x, y", [(2.5, -1.25), (0.0, -0.0), (1e308, 1e308), (-3.0, math.inf)])
def test_inline_dunders_compute_their_rows_forward(x: float, y: float) -> None:
    for apply, row, folded in INLINE:
        out = apply(Value(x), y if folded else Value(y))
        expected = row.forward(x, y)
        assert out._op is row and bits(out.data) == bits(expected), (row.name, out.data, expected)
    assert bits((-Value(x)).data) == bits(ops.NEG.forward(x, None))
    assert bits((Value(x) - y).data) == bits(ops.ADD_CONST.forward(x, -y))


def test_float_and_value_namespaces_of_special_functions_are_the_same() -> None:
    names = [{n for n in vars(ns) if not n.startswith("_")} for ns in (ops.FloatMath, GraphMath)]
    assert names[0] == names[1]
    for name in ops.SPECIAL_FUNCTIONS:
        for x in (-1.5, 0.0, 0.5, 3.0, 800.0):
            float_fn, graph_fn = getattr(ops.FloatMath, name), getattr(GraphMath, name)
            assert bits(graph_fn(x)) == bits(float_fn(x)), (name, x)
            assert bits(graph_fn(Value(x)).data) == bits(float_fn(x)), (name, x)


def test_display_comes_from_the_row() -> None:
    x = Value(2.0)
    shown = [(x + 1).op_symbol, (x - 1).op_symbol, (2 - x).op_symbol, (x / 4).op_symbol, (3**x).op_symbol]
    assert shown == ["+ 1", "- 1", "2 -", "/ 4", "3 **"]
    assert x.elu(0.5).op_symbol == "elu(0.5)" and ops.ELU.param == "alpha"
    assert autograd.dot([x], [x]).op_symbol == "·"


# --------------------------------------------------------- pickling, copying


def test_leaves_pickle_and_copy_and_graphs_refuse_clearly() -> None:
    import copy

    x = Value(2.0, "x")
    assert pickle.loads(pickle.dumps(x)).data == 2.0
    assert copy.deepcopy(x).label == "x"
    y = x * 3.0
    for attempt in (lambda: pickle.dumps(y), lambda: copy.deepcopy(y), lambda: copy.copy(y)):
        with pytest.raises(TypeError, match=r"cannot pickle or copy a Value made by op 'mul_const'.*detach"):
            attempt()
    chain = x
    for _ in range(100_000):
        chain = chain + 1.0
    with pytest.raises(TypeError, match="cannot pickle or copy"):
        copy.deepcopy(chain)
    assert y.detach().is_leaf and y.detach().data == 6.0 and y.item() == 6.0 and not y.is_leaf


def test_models_still_pickle() -> None:
    from valuegrad import nn

    model = nn.MLP(2, [3, 1], rng=0)
    again = pickle.loads(pickle.dumps(model))
    assert [p.data for p in again.parameters()] == [p.data for p in model.parameters()]


def test_dot_layouts_are_typed_records() -> None:
    w, x = Value(1.0), Value(2.0)
    assert isinstance(autograd.dot([w], [3.0]).constant, ops.DotConst)
    assert isinstance(autograd.dot([w], [x], w).constant, ops.DotPaired)
    mixed = autograd.dot([w, 2.0, w], [x, x, 5.0], 1.0)
    assert isinstance(mixed.constant, ops.DotMixed) and mixed.data == 1 * 2 + 2 * 2 + 1 * 5 + 1
    assert gradients(mixed, [w, x]) == [2.0 + 5.0, 1.0 + 2.0]


def test_operator_module_is_what_add_runs() -> None:
    assert ops.ADD.forward is operator.add and ops.SUB.forward is operator.sub and ops.MUL.forward is operator.mul


def test_the_expression_language_reads_functions_and_parameters_from_the_table() -> None:
    from valuegrad.autograd import expr

    assert set(ops.UNARY) <= set(expr.FUNCTIONS)
    assert tuple(sorted(ops.FUNCTIONS)) == expr.FUNCTIONS
    assert expr.PARAMETERS == {"elu": "alpha", "leaky_relu": "alpha"}
    assert {name: row.arity for name, row in ops.FUNCTIONS.items()} == expr._ARITY
    with pytest.raises(LookupError, match=r"without a Value method.*'nosuch'"):
        expr._callables({"nosuch": ops.EXP})
    with pytest.raises(LookupError, match=r"engine function of the same name.*'nosuch'"):
        expr._callables({"nosuch": ops.HYPOT})
