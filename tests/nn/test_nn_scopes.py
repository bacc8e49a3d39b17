"""Module scopes: ``Module.__call__`` and ``call_all`` stamp the same scopes, per thread and per task.

``call_all`` is a fast copy of ``[m(x) for m in modules]`` (a layer's units), so these tests hold
the two to the same nodes, scopes and gradients. Scopes are opened in place on a ``State`` the
calling thread owns (``_modes.owned_state``), so threads and tasks are tested here too.
"""

from __future__ import annotations

import asyncio
import contextvars
import random
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import valuegrad.nn as nn
from valuegrad.autograd import Value, current_scope, no_grad, scope, topological_order
from valuegrad.nn.module import call_all


class Doubled(nn.Module):
    """A module that overrides ``__call__`` (not the idiom, but allowed): call_all must go through it."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: Any) -> Value:
        return self.inner(x) * 2.0

    def __call__(self, x: Any) -> Value:  # type: ignore[override]
        return super().__call__(x) + 1.0


def scope_shape(outputs: list[Value]) -> list[list[tuple[tuple[str, int], ...]]]:
    """Each output's graph as scope paths of (label, id(key)); scopes told apart by first appearance."""
    seen: dict[int, int] = {}
    shapes = []
    for out in outputs:
        shape = []
        for node in topological_order(out):
            if node.parents:
                path = node.scope.path() if node.scope is not None else ()
                shape.append(tuple((s.label, id(s.key), seen.setdefault(id(s), len(seen))) for s in path))
        shapes.append(shape)
    return shapes  # type: ignore[return-value]


def make_units(kinds: list[str], nin: int, seed: int) -> list[Any]:
    rng = random.Random(seed)
    makers = {
        "relu": lambda: nn.Neuron(nin, rng=rng),
        "tanh": lambda: nn.Neuron(nin, activation="tanh", rng=rng),
        "prelu": lambda: nn.Neuron(nin, activation="prelu", rng=rng),
        "maxout": lambda: nn.Maxout(nin, pieces=2, rng=rng),
        "rbf": lambda: nn.RBF(nin, rng=rng),
        "doubled": lambda: Doubled(nn.Neuron(nin, rng=rng)),
        "function": lambda: lambda x: sum(x, Value(0.0)).tanh(),  # not a module at all
    }
    return [makers[kind]() for kind in kinds]


@given(
    kinds=st.lists(st.sampled_from(["relu", "tanh", "prelu", "maxout", "rbf", "doubled", "function"]), max_size=6),
    xs=st.lists(st.floats(-3, 3), min_size=1, max_size=4),
    as_values=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_call_all_equals_calling_each_module(kinds: list[str], xs: list[float], as_values: bool, seed: int) -> None:
    units = make_units(kinds, len(xs), seed)
    results = []
    for run in (lambda x: [u(x) for u in units], lambda x: call_all(units, x)):
        x = [Value(v) for v in xs] if as_values else list(xs)
        with scope("outer"):
            outputs = run(x)
        assert current_scope() is None
        total = sum(outputs, Value(0.0))
        total.backward()
        grads = [p.grad for u in units if isinstance(u, nn.Module) for p in u.parameters()]
        grads += [v.grad for v in x if isinstance(v, Value)]
        for u in units:
            if isinstance(u, nn.Module):
                u.zero_grad()
        results.append(([o.data for o in outputs], grads, scope_shape(outputs)))
    assert results[0] == results[1]


def test_call_all_restores_the_scope_when_a_unit_fails() -> None:
    units = [nn.Neuron(2, rng=0), nn.Neuron(3, rng=1)]
    with scope("outer") as outer:
        with pytest.raises(ValueError, match="Neuron"):
            call_all(units, [1.0, 2.0])
        assert current_scope() is outer
    assert current_scope() is None


def test_forward_may_take_no_argument_or_several() -> None:
    class Constant(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c = Value(3.0)

        def forward(self) -> Value:
            return self.c * 2.0

    class Cell(nn.Module):
        def forward(self, x: Value, h: Value) -> Value:
            return (x + h).tanh()

    assert Constant()().scope.label == "Constant"
    out = Cell()(Value(0.1), Value(0.2))
    assert out.scope.label == "Cell" and out.parents[0].scope is out.scope


def test_no_grad_inside_forward_keeps_the_module_scope() -> None:
    class Frozen(nn.Module):
        def forward(self, x: Value) -> tuple[Value, Value]:
            with no_grad():
                inside = x * 2.0
            return inside, x * 3.0

    module = Frozen()
    inside, after = module(Value(1.0))
    assert inside.scope is after.scope and inside.scope.key is module and not inside.parents
    assert current_scope() is None


@pytest.fixture
def fast_switching() -> Iterator[None]:
    """Switch threads every microsecond, so a shared State would be caught mid-call."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


def expected_paths(model: nn.MLP, out: Value) -> None:
    """Every node of one sample's output sits under one fresh MLP call, in its own layer and neuron."""
    root = out.scope.path()[0]
    assert root.key is model and root.parent is None
    for node in topological_order(out):
        if node.parents:
            path = node.scope.path()
            assert path[0] is root, "a node carries another call's (or another thread's) scope"
            assert [s.key for s in path[1:]] in (
                [model.layers[i], model.layers[i].neurons[j]]
                for i in range(2)
                for j in range(len(model.layers[i].neurons))
            )


@pytest.mark.parametrize("entry", ["model", "call_all"])
def test_threads_calling_models_at_once_keep_their_own_scopes(fast_switching: None, entry: str) -> None:
    models = [nn.MLP(2, [6, 1], rng=seed) for seed in range(4)]
    failures: list[BaseException] = []
    barrier = threading.Barrier(len(models))

    def work(model: nn.MLP) -> None:
        try:
            barrier.wait()
            units = model.layers[0].neurons
            for i in range(150):
                if entry == "model":  # the first call makes the thread its own State
                    (out,) = model([0.01 * i, -0.5])
                    expected_paths(model, out)
                else:  # call_all as the thread's first and only entry
                    for unit, out in zip(units, call_all(units, [0.01 * i, -0.5])):
                        assert [s.key for s in out.scope.path()] == [unit]
            assert current_scope() is None
        except BaseException as error:  # reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=work, args=(m,)) for m in models]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures, failures[0]
    assert current_scope() is None


def test_a_context_copied_into_another_thread_never_shares_in_place_scopes(fast_switching: None) -> None:
    """``asyncio.to_thread`` and ``copy_context().run`` hand this thread's State to another thread."""
    model = nn.MLP(2, [6, 1], rng=0)
    model([0.0, 0.0])  # this thread now owns a State in this context
    copied = contextvars.copy_context()
    failures: list[BaseException] = []

    def work() -> None:
        try:
            for i in range(300):
                (out,) = model([0.01 * i, 0.5])
                expected_paths(model, out)
        except BaseException as error:
            failures.append(error)

    other = threading.Thread(target=copied.run, args=(work,))
    other.start()
    for i in range(300):
        (out,) = model([0.5, 0.01 * i])
        expected_paths(model, out)
    other.join()
    assert not failures, failures[0]
    assert current_scope() is None and copied.run(current_scope) is None


def test_a_thread_in_a_copied_context_never_starts_inside_another_threads_module_call() -> None:
    """The copy is taken outside any call; the owner then sits inside one while the other thread works."""
    inner = nn.MLP(1, [1], rng=0)
    inner([1.0])  # this thread owns a State in this context
    copied = contextvars.copy_context()
    inside, finished = threading.Event(), threading.Event()
    seen: dict[str, Any] = {}

    class Waiting(nn.Module):
        def forward(self) -> None:
            inside.set()
            finished.wait(10)

    def work() -> None:
        inside.wait(10)
        seen["current"] = current_scope()  # still on the owner's State: its bound scope
        with scope("mine"):
            seen["scoped"] = [s.label for s in current_scope().path()]  # type: ignore[union-attr]
        seen["module"] = [s.label for s in inner([1.0])[0].scope.path()]
        seen["plain"] = (Value(1.0) * 3.0).scope  # made after its own call, on its own State
        finished.set()

    other = threading.Thread(target=copied.run, args=(work,))
    other.start()
    Waiting()()
    other.join()
    assert seen == {"current": None, "scoped": ["mine"], "module": ["MLP", "layer 0", "neuron 0"], "plain": None}


def test_tasks_keep_their_own_scopes_across_awaits() -> None:
    model = nn.MLP(2, [3, 1], rng=0)

    async def task(name: str) -> list[str]:
        with scope(name):
            await asyncio.sleep(0)
            (out,) = model([1.0, 2.0])
            await asyncio.sleep(0)
            return [s.label for s in out.scope.path()] + [current_scope().label]  # type: ignore[union-attr]

    async def both() -> list[list[str]]:
        return list(await asyncio.gather(task("a"), task("b")))

    assert asyncio.run(both()) == [["a", "MLP", "layer 1", "neuron 0", "a"], ["b", "MLP", "layer 1", "neuron 0", "b"]]
