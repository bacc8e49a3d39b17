"""``fit(compile=True)`` with detach and item in the forward pass, and the compiled step kept across fits."""

from __future__ import annotations

import pytest

import valuegrad.nn as nn
from valuegrad.autograd.compiler import compiled as compiled_module
from valuegrad.autograd.compiler import example as example_module
from valuegrad.nn.recipes import RECIPES


class Gated(nn.Module):
    """An MLP whose output is scaled by a number read from itself: detach() or item()."""

    def __init__(self, how: str) -> None:
        super().__init__()
        self.mlp = nn.MLP(2, [8, 1], rng=0)
        self.how = how

    def forward(self, x):
        (h,) = self.mlp(x)
        if self.how == "detach":
            return h * h.detach().tanh()
        return h * 2.0 if h.item() > 0 else h * 0.5


def _train(model, compile: bool, steps: int = 6, **options):
    X, y = RECIPES["moons"].load(40, None, 0)
    history = nn.fit(model, X, y, loss="hinge", steps=steps, progress=False, compile=compile, **options)
    return history.loss, [p.data for p in model.parameters()]


@pytest.mark.parametrize("how", ["detach", "item"])
def test_compiled_fit_equals_eager_with_detach_or_item_in_forward(how):
    assert _train(Gated(how), compile=True) == _train(Gated(how), compile=False)


@pytest.fixture
def traces(monkeypatch):
    """How many times anything was traced (a jit trace or one example's)."""
    count = [0]
    trace, example = compiled_module.Compiled._trace, example_module.Example.__init__

    def counted_trace(self, args):
        count[0] += 1
        return trace(self, args)

    def counted_example(self, f, x):
        count[0] += 1
        example(self, f, x)

    monkeypatch.setattr(compiled_module.Compiled, "_trace", counted_trace)
    monkeypatch.setattr(example_module.Example, "__init__", counted_example)
    return count


def test_the_compiled_step_is_kept_across_fits_of_one_model(traces):
    model = nn.MLP(2, [8, 1], rng=0)
    _train(model, compile=True, steps=2)
    first = traces[0]
    assert first > 0
    _train(model, compile=True, steps=2)
    assert traces[0] == first  # the second fit traced nothing
    _train(model, compile=True, steps=2, l2=1e-3)  # another loss: traced again
    assert traces[0] > first


def test_a_kept_step_trains_as_eager(traces):
    compiled, eager = nn.MLP(2, [8, 1], rng=0), nn.MLP(2, [8, 1], rng=0)
    for _ in range(2):
        assert _train(compiled, compile=True, steps=3) == _train(eager, compile=False, steps=3)


def test_a_changed_structure_is_traced_again(traces):
    model = Gated("detach")
    _train(model, compile=True, steps=2)
    first = traces[0]
    model.mlp = nn.MLP(2, [4, 1], rng=1)  # new parameters
    _train(model, compile=True, steps=2)
    assert traces[0] > first


def test_the_kept_step_is_not_saved_or_pickled_with_the_model(tmp_path):
    import pickle

    model = nn.MLP(2, [4, 1], rng=0)
    _train(model, compile=True, steps=2)
    assert "compiled" not in repr(vars(model)).lower()
    pickle.loads(pickle.dumps(model))
    model.save(tmp_path / "model.json")


def test_the_kept_step_does_not_keep_the_model_alive():
    import gc
    import weakref

    model = nn.MLP(2, [4, 1], rng=0)
    _train(model, compile=True, steps=2)
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None


@pytest.mark.parametrize(
    ("sizes", "loss", "targets"),
    [([8, 1], "hinge", None), ([6, 3], "cross_entropy", [0, 1, 2])],
)
def test_the_final_loss_and_accuracy_from_the_compiled_forward_equal_eagers(sizes, loss, targets):
    """``fit(compile=True)`` takes its final numbers from the compiled forward pass: they are eager's, bit for bit."""
    X, y = RECIPES["moons"].load(30, None, 0)
    if targets is not None:
        y = [targets[i % 3] for i in range(len(X))]
    histories = []
    for compile in (False, True):
        model = nn.MLP(2, sizes, rng=0)
        histories.append(nn.fit(model, X, y, loss=loss, steps=3, l2=1e-3, progress=False, compile=compile))
    eager, compiled = histories
    assert compiled.final_loss == eager.final_loss
    assert compiled.final_accuracy == eager.final_accuracy
