"""The engine's contract: accumulation, fan-out, worked examples, graph shape, no recursion, no cycles."""

from __future__ import annotations

import gc
import math
import sys
import weakref

import pytest
from hypothesis import given
from hypothesis import strategies as st

from valuegrad import autograd
from valuegrad.autograd import Value, gradients, zero_grad


def test_micrograd_readme_expression() -> None:
    a = Value(-4.0)
    b = Value(2.0)
    c = a + b
    d = a * b + b**3
    c += c + 1
    c += 1 + c + (-a)
    d += d * 2 + (b + a).relu()
    d += 3 * d + (b - a).relu()
    e = c - d
    f = e**2
    g = f / 2.0
    g += 10.0 / f
    g.backward()
    assert f"{g.data:.4f}" == "24.7041"
    assert f"{a.grad:.4f}" == "138.8338"
    assert f"{b.grad:.4f}" == "645.5773"


def test_logistic_least_squares_with_l2_matches_the_hand_derivation() -> None:
    """Lecture example: z = wx + b, y = σ(z), L = ½(y−t)², R = ½w², L_reg = L + λR."""
    x, t, lam = 1.5, 0.25, 0.1
    w, b = Value(-0.7), Value(0.3)
    z = w * x + b
    y = z.sigmoid()
    loss = 0.5 * (y - t) ** 2
    reg = 0.5 * w**2
    total = loss + lam * reg
    total.backward()

    # The backward pass by hand, line by line, as on the slides.
    zf = -0.7 * x + 0.3
    yf = 1 / (1 + math.exp(-zf))
    total_bar = 1.0
    reg_bar = total_bar * lam
    loss_bar = total_bar
    y_bar = loss_bar * (yf - t)
    z_bar = y_bar * yf * (1 - yf)
    w_bar = z_bar * x + reg_bar * -0.7
    b_bar = z_bar
    assert w.grad == pytest.approx(w_bar, rel=1e-14)
    assert b.grad == pytest.approx(b_bar, rel=1e-14)
    assert y.grad == pytest.approx(y_bar, rel=1e-14)
    assert z.grad == pytest.approx(z_bar, rel=1e-14)


def test_multivariate_chain_rule_example() -> None:
    """f = y + e^{xy}, x = cos t, y = t²: df/dt = ∂f/∂x·dx/dt + ∂f/∂y·dy/dt."""
    t0 = 0.8
    t = Value(t0)
    x = t.cos()
    y = t**2
    f = y + (x * y).exp()
    f.backward()
    xf, yf = math.cos(t0), t0**2
    df_dx = yf * math.exp(xf * yf)
    df_dy = 1 + xf * math.exp(xf * yf)
    expected = df_dx * -math.sin(t0) + df_dy * 2 * t0
    assert t.grad == pytest.approx(expected, rel=1e-14)
    assert x.grad == pytest.approx(df_dx, rel=1e-14)
    assert y.grad == pytest.approx(df_dy, rel=1e-14)


def test_gradients_accumulate_like_pytorch() -> None:
    x = Value(3.0)
    y = x * x * x
    y.backward()
    assert x.grad == 27.0
    y.backward()
    assert x.grad == 54.0  # never micrograd's stale-interior-grad result


def test_interior_grads_are_this_pass_plus_previous() -> None:
    x = Value(2.0)
    h = x * x
    y = h * 3.0
    y.backward()
    assert (h.grad, x.grad, y.grad) == (3.0, 12.0, 1.0)
    y.backward()
    assert (h.grad, x.grad, y.grad) == (6.0, 24.0, 2.0)
    zero_grad(y)
    assert (h.grad, x.grad, y.grad) == (0.0, 0.0, 0.0)


def test_fan_out_sums_over_paths() -> None:
    a = Value(1.0)
    b = a + a
    c = b + b
    assert b.parents == (a, a)
    c.backward()
    assert a.grad == 4.0
    assert b.grad == 2.0


def test_parents_op_and_folded_constants() -> None:
    a, b = Value(2.0, label="a"), Value(5.0)
    assert (a * b).parents == (a, b)
    assert (a * b).op == "mul"
    doubled = a * 2
    assert doubled.parents == (a,) and doubled.constant == 2.0 and doubled.op_symbol == "* 2"
    assert (2 - a).op_symbol == "2 -"
    assert a.leaky_relu(0.1).op_symbol == "leaky_relu(0.1)"
    assert a.op is None and a.parents == () and a.label == "a"


def test_backward_seed_and_type_check() -> None:
    x = Value(2.0)
    (x * x).backward(grad=0.5)
    assert x.grad == 2.0
    with pytest.raises(TypeError, match="backward"):
        (x * x).backward(grad="1")  # type: ignore[arg-type]


def test_gradients_leave_grad_untouched_and_give_zero_for_unused_inputs() -> None:
    x, y, unused = Value(2.0), Value(3.0), Value(7.0)
    out = x * y + x
    assert gradients(out, [x, y, unused]) == [4.0, 2.0, 0.0]
    assert x.grad == y.grad == unused.grad == 0.0
    with pytest.raises(TypeError, match="inputs\\[1\\]"):
        gradients(out, [x, 3.0])  # type: ignore[list-item]


def test_backward_create_graph_keeps_a_differentiable_gradient() -> None:
    x = Value(1.5)
    y = x**3
    y.backward(create_graph=True)
    assert x.grad == pytest.approx(3 * 1.5**2)
    g = x.grad_value
    assert isinstance(g, Value)
    (second,) = gradients(g, [x])
    assert second == pytest.approx(6 * 1.5)


# ------------------------------------------------------------------ n-ary ops


def test_sum_of_many_terms_is_one_node() -> None:
    xs = [Value(float(i)) for i in range(100_000)]
    total = autograd.sum(xs)
    assert len(total.parents) == 100_000
    assert total.data == sum(range(100_000))
    total.backward()
    assert all(x.grad == 1.0 for x in xs)


def test_sum_folds_constants_and_empty_sum_is_zero() -> None:
    x = Value(2.0)
    total = autograd.sum([x, 3, 4.5, x])
    assert total.parents == (x, x) and total.data == 11.5
    total.backward()
    assert x.grad == 2.0
    assert autograd.sum([]).data == 0.0
    with pytest.raises(TypeError, match="item 1 is a str"):
        autograd.sum([x, "2"])  # type: ignore[list-item]


def _naive_dot(ws: list[object], xs: list[object], bias: object) -> Value:
    total: object = Value(0.0)
    for w, x in zip(ws, xs):
        total = total + w * x  # type: ignore[operator]
    return total + bias  # type: ignore[operator, return-value]


operands = st.one_of(
    st.floats(-3, 3).map(Value),
    st.floats(-3, 3),
    st.integers(-3, 3),
)


@given(
    st.integers(0, 6).flatmap(
        lambda n: st.tuples(
            st.one_of(
                st.lists(operands, min_size=n, max_size=n),
                st.lists(st.floats(-3, 3).map(Value), min_size=n, max_size=n),
                st.lists(st.floats(-3, 3), min_size=n, max_size=n),
            ),
            st.one_of(
                st.lists(operands, min_size=n, max_size=n),
                st.lists(st.floats(-3, 3).map(Value), min_size=n, max_size=n),
                st.lists(st.floats(-3, 3), min_size=n, max_size=n),
            ),
        )
    ),
    operands,
)
def test_dot_agrees_with_a_chain_of_products_in_every_layout(
    pair: tuple[list[object], list[object]], bias: object
) -> None:
    ws, xs = pair
    fused = autograd.dot(ws, xs, bias)  # type: ignore[arg-type]
    chained = _naive_dot(ws, xs, bias)
    assert fused.data == pytest.approx(chained.data, rel=1e-12, abs=1e-12)
    leaves = [v for v in [*ws, *xs, bias] if isinstance(v, Value)]
    for first, second in zip(gradients(fused, leaves), gradients(chained, leaves)):
        assert first == pytest.approx(second, rel=1e-12, abs=1e-12)
    for first_v, second in zip(gradients(fused, leaves, create_graph=True), gradients(chained, leaves)):
        assert first_v.data == pytest.approx(second, rel=1e-12, abs=1e-12)
    # Constants are folded: the node's parents are exactly the Value operands.
    assert sorted(map(id, fused.parents)) == sorted(map(id, leaves))


def test_dot_is_one_node_and_checks_lengths() -> None:
    ws = [Value(1.0), Value(2.0)]
    out = autograd.dot(ws, [3.0, 4.0], Value(0.5))
    assert out.data == 11.5 and len(out.parents) == 3
    with pytest.raises(ValueError, match="2 weights but 3 inputs"):
        autograd.dot(ws, [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="element 1 is a str"):
        autograd.dot(ws, [1.0, "x"])  # type: ignore[list-item]


def test_logsumexp_is_stable_and_its_gradient_is_softmax() -> None:
    xs = [Value(1000.0), Value(1000.0), Value(-1000.0)]
    out = autograd.logsumexp(xs)
    assert out.data == pytest.approx(1000.0 + math.log(2.0))
    out.backward()
    assert [x.grad for x in xs] == pytest.approx([0.5, 0.5, 0.0])
    assert autograd.logsumexp([Value(-math.inf), Value(-math.inf)]).data == -math.inf
    with pytest.raises(ValueError, match="empty"):
        autograd.logsumexp([])


def test_max_sends_the_gradient_to_the_first_maximum() -> None:
    xs = [Value(1.0), Value(3.0), Value(3.0)]
    out = autograd.max(xs)
    out.backward()
    assert out.data == 3.0
    assert [x.grad for x in xs] == [0.0, 1.0, 0.0]
    assert math.isnan(autograd.max([Value(1.0), Value(math.nan)]).data)


@pytest.mark.parametrize(
    ("data", "hot"),
    [
        ([1.0, math.nan], 1),
        ([math.nan, 1.0], 0),
        ([1.0, math.nan, math.nan, 5.0], 1),
        ([math.inf, 2.0, math.nan], 2),
        ([-math.inf, math.nan], 1),
        ([math.nan], 0),
    ],
)
def test_max_with_a_nan_is_nan_and_the_first_nan_takes_the_gradient(data: list[float], hot: int) -> None:
    expected = [1.0 if i == hot else 0.0 for i in range(len(data))]
    xs = [Value(x) for x in data]
    out = autograd.max(xs)
    assert math.isnan(out.data)
    out.backward()
    assert [x.grad for x in xs] == expected
    # create_graph: the same choice, as a differentiable gradient (the gradient of 2 * max)
    xs = [Value(x) for x in data]
    first = autograd.gradients(autograd.max(xs) * 2.0, xs, create_graph=True)
    assert [g.data for g in first] == [2.0 * e for e in expected]
    assert all(isinstance(g, Value) for g in first)
    # with plain numbers among the items: a NaN number before a NaN Value is the first NaN
    nan_first = autograd.gradients(autograd.max([1.0, math.nan, xs[0]]), [xs[0]])
    nan_second = autograd.gradients(autograd.max([1.0, xs[0], math.nan]), [xs[0]])
    assert nan_first == [0.0] and nan_second == [1.0 if data[0] != data[0] else 0.0]


# -------------------------------------------------------------- graph hygiene


def test_a_million_deep_chain_runs_at_the_default_recursion_limit() -> None:
    assert sys.getrecursionlimit() <= 10_000
    x = Value(0.5)
    y = x
    for _ in range(1_000_000):
        y = y * 1.0
    y.backward()
    assert x.grad == 1.0
    del y  # freeing a deep chain must not overflow the C stack either


def test_dropped_graph_is_freed_by_reference_counting_alone() -> None:
    gc.collect()
    gc.disable()
    try:
        x = Value(1.5)
        y = ((x * x).tanh() + x.exp() * 2 - x).relu() / 3
        y.backward()
        probe = weakref.ref(y)
        interior = weakref.ref(y.parents[0])
        del y
        assert probe() is None and interior() is None
        z = x.sigmoid()
        (dz,) = gradients(z, [x], create_graph=True)
        probes = weakref.ref(z), weakref.ref(dz)
        del z, dz
        assert probes[0]() is None and probes[1]() is None
    finally:
        gc.enable()


def test_hooks_can_read_and_replace_the_gradient() -> None:
    x = Value(2.0)
    h = x * 3.0
    seen: list[float] = []
    handle = h.register_hook(lambda g: seen.append(g))
    doubling = h.register_hook(lambda g: g * 2)
    (h * h).backward()
    assert seen == [12.0]
    assert h.grad == 24.0 and x.grad == 72.0
    handle.remove()
    doubling.remove()
    zero_grad(h * h)
    (h * h).backward()
    assert seen == [12.0] and x.grad == 36.0
    leaf_hook = x.register_hook(lambda g: 0.0)
    (x * x).backward()
    assert x.grad == 36.0  # the leaf hook zeroed this pass's contribution
    leaf_hook.remove()
    with pytest.raises(TypeError, match="callable"):
        x.register_hook(3)  # type: ignore[arg-type]


def test_identity_hash_and_ordering() -> None:
    a, b = Value(1.0), Value(1.0)
    assert a != b and a == a
    assert len({a, b}) == 2
    assert a <= b and not a < b and Value(2.0) > a and a < 2 and a >= 1.0
    assert max([Value(3.0), Value(5.0), Value(4.0)]).data == 5.0
    assert [v.data for v in sorted([Value(3.0), Value(1.0), Value(2.0)])] == [1.0, 2.0, 3.0]
    assert float(Value(2.5)) == 2.5
    assert repr(Value(2.0, label="w")) == "Value(data=2.0, grad=0.0, label='w')"


def test_backward_restores_the_cycle_collector_state_even_after_an_error() -> None:
    x = Value(2.0)
    assert gc.isenabled()
    (x * x).backward()
    assert gc.isenabled()
    h = x * 3.0
    h.register_hook(lambda g: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        (h * h).backward()
    assert gc.isenabled()
    gc.disable()
    try:
        (x * x).backward()
        assert not gc.isenabled()  # a caller's own choice is left alone
    finally:
        gc.enable()


def test_zero_grad_takes_one_root_or_many_and_is_the_one_way_to_zero() -> None:
    from valuegrad import nn
    from valuegrad.autograd import zero_grad

    a, b = Value(2.0), Value(3.0)
    y = a * b + a
    y.backward(create_graph=True)
    assert a.grad == 4.0 and a.grad_value is not None
    zero_grad([a, b])  # the leaves only: y keeps its own
    assert (a.grad, b.grad, a.grad_value, b.grad_value) == (0.0, 0.0, None, None) and y.grad == 1.0
    zero_grad(y)  # one root: its whole graph
    assert y.grad == 0.0
    model = nn.MLP(2, [2, 1], rng=0)
    model([1.0, 2.0])[0].backward()
    assert any(p.grad for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())
