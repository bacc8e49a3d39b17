"""The oracle: random functions from the package's own strategies, jit against eager, bit for bit.

Each function is a random expression DAG (``testing.strategies.expressions``) with, drawn on
top: a ``detach()`` of an intermediate, a branch on ``item()``, a closed-over intermediate
(a Value with parents, made outside), Python control flow on a comparison, and a nested
``grad`` (traced: jit opens a transform level, so it answers in Values). Each is called at
several points, so guards fail and paths are traced again; value, input gradients and the
closed-over values' ``.grad`` must equal the engine's.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from valuegrad.autograd import Value, grad
from valuegrad.autograd.compiler.compiled import jit
from valuegrad.autograd.core.modes import transform_level
from valuegrad.autograd.testing import strategies as vst

FEATURES = ("detach", "item", "closed", "branch", "nested grad")


def same(a: float, b: float) -> bool:
    return a == b or (a != a and b != b)


def _function(expr, features, w, w2):
    def f(x, y):
        out = expr.on_values(x, y)
        if "detach" in features:
            out = out + out.detach() * x
        if "item" in features:
            out = out * 2.0 if out.item() > 0.0 else out - 1.0
        if "closed" in features:
            out = out * w2 + w
        if "branch" in features:
            out = (out + y) if x > y else out * 0.5
        if "nested grad" in features:
            out = out + grad(lambda z: z * z * x)(y)
        return out

    return f


def _eager(f, point, closed):
    with transform_level("the eager oracle", traceable=True):  # jit means value_and_grad: one level in
        leaves = [Value(x) for x in point]
        out = f(*leaves)
        out.backward()
    return out.data, tuple(leaf.grad for leaf in leaves), tuple(v.grad for v in closed)


@given(
    vst.expressions(n_inputs=2, max_ops=5),
    st.sets(st.sampled_from(FEATURES)),
    st.lists(st.floats(-1.5, 1.5), min_size=2, max_size=3),
    vst.finite_floats(-2.0, 2.0),
)
def test_jit_equals_eager_on_random_functions(expr, features, shifts, w0):
    w = Value(w0)
    w2 = (w * 0.75).tanh()  # closed over, with parents
    f = _function(expr, features, w, w2)
    compiled = jit(f, argnums=(0, 1), max_traces=16)
    x0, y0 = expr.inputs
    for point in [(x0, y0), *((x0 + s, y0 - s) for s in shifts)]:
        w.grad = w2.grad = 0.0
        value, grads = compiled(*point)
        got_closed = (w.grad, w2.grad)
        w.grad = w2.grad = 0.0
        want_value, want_grads, want_closed = _eager(f, point, (w, w2))
        assert same(value, want_value), (point, compiled.source)
        assert all(map(same, grads, want_grads)), (point, grads, want_grads, compiled.source)
        assert all(map(same, got_closed, want_closed)), (point, got_closed, want_closed, compiled.source)
