"""Issue #21: a compiled replay is never silently wrong.

Every number that leaves a traced Value is a guard or part of the replay (``detach``), what
cannot be replayed is refused by name (float gradients, ``no_grad``), transforms inside are traced, Values the
function closes over are inputs read at each call, tracing is a mode of one context (other
threads and tasks are untouched), and compilation does not recurse.
"""

from __future__ import annotations

import asyncio
import contextvars
import math
import threading
from fractions import Fraction

import pytest

import valuegrad.autograd as ag
from valuegrad.autograd import Value, grad, gradients, hessian, jacobian, no_grad, value_and_grad
from valuegrad.autograd.compiler.compiled import CompileError, jit


def eager(f, *xs, argnums=0):
    """What the engine gives: the value, the gradient(s), and .grad added as backward() adds it."""
    leaves = [Value(x) for x in xs]
    out = f(*leaves)
    out.backward()
    chosen = [leaves[i] for i in ((argnums,) if isinstance(argnums, int) else argnums)]
    grads = [leaf.grad for leaf in chosen]
    return out.data, grads[0] if isinstance(argnums, int) else tuple(grads)


# ------------------------------------------------------------------ 1. detach


def test_detach_is_replayed_from_the_current_input():
    f = lambda x: x * x.detach()
    compiled = jit(f)
    assert compiled(2.0) == eager(f, 2.0) == (4.0, 2.0)
    assert compiled(3.0) == eager(f, 3.0) == (9.0, 3.0)
    assert compiled.traces == 1  # replayed, not traced again


def test_a_detached_value_read_in_python_is_guarded():
    f = lambda x: x * 2.0 if x.detach().data > 0 else x * -3.0
    compiled = jit(f)
    assert compiled(1.0) == eager(f, 1.0)
    assert compiled(-1.0) == eager(f, -1.0) == (3.0, -3.0)


# ------------------------------------------------------------------ 2. item and other reads


@pytest.mark.parametrize(
    "read",
    [
        lambda x: x.item(),
        lambda x: float(x),
        lambda x: x.data,
        lambda x: math.exp(x) - 1.0,  # math.* reads float()
        lambda x: float(repr(x)[len("Value(data=") :].split(",")[0]),
        lambda x: float(str(x)[len("Value(data=") :].split(",")[0]),
        lambda x: float(f"{x}"[len("Value(data=") :].split(",")[0]),
    ],
    ids=["item", "float", "data", "math.exp", "repr", "str", "f-string"],
)
def test_every_read_of_the_number_is_guarded(read):
    f = lambda x: x * 2.0 if read(x) > 0 else x * -3.0
    compiled = jit(f)
    assert compiled(1.0) == eager(f, 1.0) == (2.0, 2.0)
    assert compiled(-1.0) == eager(f, -1.0) == (3.0, -3.0)


@pytest.mark.parametrize("compare", [lambda x: x > 0, lambda x: x > 0, lambda x: x >= 0.5, lambda x: not x <= 0])
def test_comparisons_are_guarded(compare):
    f = lambda x: x * 2.0 if compare(x) else x * -3.0
    compiled = jit(f)
    assert compiled(1.0) == eager(f, 1.0)
    assert compiled(-1.0) == eager(f, -1.0)


def test_conversions_eager_refuses_stay_refused_and_bool_is_eager_bool():
    for convert in (int, round, lambda v: format(v, ".2f"), lambda v: v.__index__()):
        with pytest.raises((TypeError, AttributeError)):
            convert(Value(1.5))
        with pytest.raises((TypeError, AttributeError)):
            jit(lambda x, c=convert: x * float(c(x)))(1.5)
    # bool(v) is True for every Value in eager (identity semantics): the same in a trace, no number read.
    f = lambda x: x * 2.0 if bool(x - x) else x * -3.0
    compiled = jit(f)
    assert compiled(1.0) == eager(f, 1.0) == (2.0, 2.0)
    assert compiled(-1.0) == eager(f, -1.0)


# Attributes that return a number that is not the data: what each is, and why a replay keeps it.
NOT_DATA = {
    "grad": "0.0 on every node of a trace (backward() is refused inside one)",
    "is_leaf": "whether the node has parents: the same in every replay of one trace",
    "__hash__": "identity",
    "__sizeof__": "memory",
    "__module__": "where the class is defined",
    "__doc__": "the class's docstring",
    "__qualname__": "the class's name",
    "__firstlineno__": "where the class is defined (Python 3.13+)",
    "__static_attributes__": "the class's attribute names (Python 3.13+)",
}


def _probe(x, name):
    if name == "__format__":
        return format(x, "")
    attribute = getattr(x, name)
    if not callable(attribute):
        return attribute
    for args in ((), (0.5,), (lambda g: None,)):
        try:
            return attribute(*args)
        except TypeError as error:
            if "argument" not in str(error):
                raise
    raise AssertionError(f"cannot call Value.{name}")


def test_every_public_attribute_returning_a_number_is_guarded():
    """A later method of Value that returns a number must be guarded (or listed in NOT_DATA with a reason)."""
    from valuegrad.autograd.compiler.tracing import recording
    from valuegrad.autograd.core.value import traced_input

    names = {n for n in dir(Value) if not n.startswith("_")}
    names |= {n for n in vars(Value) if n.startswith("__") and n not in ("__init__", "__new__", "__class__")}
    names |= {"__str__", "__format__"}
    checked = 0
    for name in sorted(names):
        x = traced_input(1.5)
        with recording() as record:
            try:
                result = _probe(x, name)
            except (CompileError, TypeError):
                continue  # refused in a trace, or not callable without context
        # A number, or text (repr shows the data): either must have been reported to the trace.
        if isinstance(result, (int, float, str)) and not isinstance(result, Value) and name not in NOT_DATA:
            assert record.guards, f"Value.{name} returned {result!r} without a guard"
            checked += 1
    assert checked >= 10  # data, item, __float__, __repr__, __str__, __format__, the four comparisons


# ------------------------------------------------------------------ 3. transforms


TRANSFORMS_INSIDE = {
    "grad": lambda x: grad(lambda y: y * y * x)(x) + x,  # the issue's example: 9.0 at 2.0, and 21 at 3.0
    "value_and_grad": lambda x: value_and_grad(lambda y: y * x)(x)[1] * x,
    "hessian": lambda x: hessian(lambda y: y * y * y)(x)[0][0] * x,
    "jacobian": lambda x: jacobian(lambda y: [y * y])(x)[0] * x,
    "grad of grad": lambda x: grad(grad(lambda y: (y * x).tanh()))(x),
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS_INSIDE))
def test_transforms_inside_are_traced_and_replayed_as_eager(name):
    """As in JAX: a transform inside f is part of the trace, recomputed at every call, never a frozen number."""
    f = TRANSFORMS_INSIDE[name]
    compiled = jit(f)
    for x in (2.0, 3.0, -0.5, 2.0):
        assert compiled(x) == value_and_grad(f)(x)
    assert compiled.traces <= 2  # replayed, not traced per call (grad of grad guards tanh's branch)


def test_the_issues_transform_example_gives_eagers_numbers():
    compiled = jit(lambda x: grad(lambda y: y * y * x)(x) + x)
    assert compiled(2.0) == (10.0, 9.0)
    assert compiled(3.0) == (21.0, 13.0)


@pytest.mark.parametrize(
    ("name", "f"),
    [
        ("gradients", lambda x: gradients(x * x, [x])[0] * x),
        ("backward", lambda x: (x * x).backward() or x),
        ("gradcheck", lambda x: ag.gradcheck(lambda y: y * y, 1.0) and x),
    ],
)
def test_float_gradients_inside_are_refused_by_name(name, f):
    with pytest.raises(CompileError, match=rf"{name}\(\).*test_jit_honest\.py:\d+"):
        jit(f)(2.0)


def test_a_transform_in_a_compiled_training_step_is_refused_as_eager_training_gives_floats():
    """Eager training calls the model at level 0, where grad answers floats: compiled, those would be frozen."""
    import valuegrad.nn as nn

    class Sloped(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.mlp = nn.MLP(2, [4, 1], rng=0)

        def forward(self, x):
            (h,) = self.mlp(x)
            return h * grad(lambda t: t * t)(1.5)

    X, y = [[0.0, 1.0], [1.0, 0.0]], [1.0, -1.0]
    with pytest.raises(CompileError, match=r"grad\(\).*test_jit_honest\.py:\d+"):
        nn.fit(Sloped(), X, y, loss="hinge", steps=2, progress=False, compile=True)


def test_gradients_with_create_graph_are_traced():
    f = lambda x: gradients(x * x * x, [x], create_graph=True)[0] + x
    compiled = jit(f)
    for x in (2.0, 3.0, -0.5):
        assert compiled(x) == eager(f, x)


# ------------------------------------------------------------------ 4. closed-over intermediates


def test_a_closed_over_intermediate_is_an_input_with_its_own_gradient():
    def run(call):
        w = Value(0.5)
        w2 = w * 3.0
        f = lambda x: x * w2
        first = call(f, 3.0)
        grads = (w2.grad, w.grad)
        w.data = 5.0  # w2 is not recomputed: eager keeps using its number
        return first, grads, call(f, 3.0), (w2.grad, w.grad)

    compiled: dict[int, object] = {}

    def via_jit(f, x):
        return compiled.setdefault(0, jit(f))(x)

    assert run(via_jit) == run(lambda f, x: eager(f, x)) == ((4.5, 1.5), (3.0, 9.0), (4.5, 1.5), (6.0, 18.0))


def test_a_closed_over_graph_gets_gradients_in_the_engines_order():
    w = Value(0.3)
    a = (w * w).tanh()
    b = a * w + 1.0
    f = lambda x: (x * b + a * x).sin() * w
    compiled = jit(f)
    for x in (0.7, -1.1):
        for node in (w, a, b):
            node.grad = 0.0
        got = compiled(x)
        jit_grads = [n.grad for n in (w, a, b)]
        for node in (w, a, b):
            node.grad = 0.0
        assert got == eager(f, x)
        assert jit_grads == [n.grad for n in (w, a, b)]


# ------------------------------------------------------------------ 6. threads and tasks


def test_tracing_leaves_other_threads_alone():
    inside, release = threading.Event(), threading.Event()
    seen: list[object] = []

    def slow(x):
        inside.set()
        release.wait(10)
        return x * x

    def other():
        inside.wait(10)
        try:
            with no_grad():
                y = Value(2.0) * 3.0
            z = Value(2.0)
            seen.append((y.is_leaf, float(z * z), z > 1.0, (z * z).is_leaf))
        except Exception as error:
            seen.append(error)
        finally:
            release.set()

    thread = threading.Thread(target=other)
    thread.start()
    assert jit(slow)(3.0) == (9.0, 6.0)
    thread.join(10)
    assert seen == [(True, 4.0, True, False)]


def test_two_tasks_one_in_no_grad_one_tracing():
    async def in_no_grad():
        with no_grad():
            await asyncio.sleep(0)
            await asyncio.sleep(0)
            return (Value(1.0) * 2.0).is_leaf

    async def tracing():
        await asyncio.sleep(0)
        compiled = jit(lambda x: x * x + 1.0)
        return compiled(2.0), (await asyncio.sleep(0)) or compiled(3.0)

    async def both():
        return await asyncio.gather(in_no_grad(), tracing())

    assert asyncio.run(both()) == [True, ((5.0, 4.0), (10.0, 6.0))]


def test_a_fresh_context_inside_the_trace_computes_eagerly():
    def f(x):
        outside = contextvars.Context().run(lambda: (no_grad().__enter__(), Value(1.0) * 2.0)[1])
        return x * float(outside.data)

    assert jit(f)(3.0) == (6.0, 2.0)


def test_no_grad_inside_is_still_refused():
    def f(x):
        with no_grad():
            return x * 2.0

    with pytest.raises(CompileError, match="no_grad"):
        jit(f)(1.0)


# ------------------------------------------------------------------ 7. scale


@pytest.mark.parametrize("n", [3_000, 20_000])
def test_one_value_feeding_many_nodes_compiles(n):
    def fan(x):
        out = x * 1.0
        for _ in range(n - 1):
            out = out + x * 1.0001
        return out

    assert jit(fan)(0.5) == eager(fan, 0.5)


def test_a_sum_of_100000_terms_of_one_input_compiles():
    f = lambda x: ag.sum([x] * 100_000)
    assert jit(f)(0.5) == eager(f, 0.5) == (50_000.0, 100_000.0)


# ------------------------------------------------------------------ 9. numbers


def test_fractions_are_accepted_as_eager_converts_them():
    f = lambda x, y: x * y + x
    compiled = jit(f, argnums=(0, 1))
    assert compiled(Fraction(1, 3), 2) == value_and_grad(f, argnums=(0, 1))(Fraction(1, 3), 2)
    assert compiled([Fraction(1, 2)][0], 1.5) == value_and_grad(f, argnums=(0, 1))(0.5, 1.5)


def test_numpy_scalars_are_accepted_as_eager_converts_them():
    np = pytest.importorskip("numpy")
    f = lambda x, y: x * y + x
    compiled = jit(f, argnums=(0, 1))
    for x, y in ((np.float32(0.1), np.int64(3)), (np.float64(-2.5), np.float16(0.5))):
        assert compiled(x, y) == value_and_grad(f, argnums=(0, 1))(float(x), float(y))
    assert jit(lambda xs: ag.sum(xs))([np.float32(1.5), np.int32(2)]) == (3.5, [1.0, 1.0])


def test_a_trace_failing_its_own_guard_is_a_compile_error_not_a_guard_failure(monkeypatch):
    """Were a fresh trace's numbers ever to differ from its replay's, the user sees a CompileError naming the read."""
    from valuegrad.autograd.compiler import compiled as compiled_module
    from valuegrad.autograd.compiler.codegen import GuardFailed

    made = compiled_module._Trace.__init__

    def broken(self, *args):
        made(self, *args)

        def run(inputs):
            raise GuardFailed(0)

        self.run = run

    monkeypatch.setattr(compiled_module._Trace, "__init__", broken)
    f = compiled_module.jit(lambda x: x * 2.0 if x.item() > 0 else x)
    with pytest.raises(compiled_module.CompileError, match=r"fails its own guard.*test_jit_honest\.py"):
        f(1.0)
    assert f._cache[next(iter(f._cache))] == []  # the broken trace is not kept
