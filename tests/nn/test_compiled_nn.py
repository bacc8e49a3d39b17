"""``fit(..., compile=True)`` trains exactly as eager mode: the same loss at every step."""

from __future__ import annotations

import pytest

import valuegrad.nn as nn
from valuegrad.nn.recipes import RECIPES


def _run(compile: bool, optimizer: str, steps: int, batch_size: int | None = None) -> tuple[nn.train.History, list]:
    recipe = RECIPES["moons"]
    X, y = recipe.load(100, None, 0)
    model = nn.MLP(2, [16, 16, 1], rng=0)
    params = model.parameters()
    opt = recipe.make_optimizer(params, 1.0, steps) if optimizer == "sgd" else nn.optim.Adam(params, lr=0.01)
    history = nn.fit(
        model,
        X,
        y,
        loss="hinge",
        l2=1e-4,
        optimizer=opt,
        steps=steps,
        progress=False,
        compile=compile,
        batch_size=batch_size,
    )
    return history, [p.data for p in params]


def _hinge_step(model, inputs, labels, opt, gradients=None, step=0) -> float:
    """One step on the hinge loss: through ``Training.step`` with ``gradients``, else eager, written out by hand."""
    from valuegrad.nn.train import Training

    if gradients is not None:
        loss, _, _ = Training(model, nn.losses.hinge, None, model.parameters(), 0.0, opt).step(
            gradients, inputs, labels, step, False
        )
        return loss
    opt.zero_grad()
    eager = nn.losses.hinge([model(x) for x in inputs], labels)
    eager.backward()
    opt.step()
    return eager.data


def test_moons_run_losses_equal_eager_at_every_step():
    eager, eager_params = _run(False, "sgd", 100)
    compiled, compiled_params = _run(True, "sgd", 100)
    assert len(compiled.loss) == 100
    assert compiled.loss == eager.loss  # bit for bit, on every Python
    assert compiled_params == eager_params
    assert compiled.accuracy == eager.accuracy


def test_adam_and_mini_batches_equal_eager():
    eager, _ = _run(False, "adam", 6, batch_size=50)
    compiled, _ = _run(True, "adam", 6, batch_size=50)
    assert compiled.loss == eager.loss


def test_cli_compile_flag_gives_the_eager_run(tmp_path, capsys):
    from valuegrad.nn import cli

    outputs = []
    for flags in ([], ["--compile"]):
        argv = ["train", "xor", "--steps", "20", "--no-progress", "--no-plots", "--no-graph", "--out"]
        assert cli.main([*argv, str(tmp_path / str(len(flags))), *flags]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1].replace(str(tmp_path / "1"), str(tmp_path / "0"))
    assert (tmp_path / "0" / "model.json").read_text() == (tmp_path / "1" / "model.json").read_text()


def _moons_model():
    X, y = RECIPES["moons"].load(100, None, 0)
    model = nn.MLP(2, [16, 16, 1], rng=0)
    return X, y, model, model.parameters()


def test_moons_step_loops_one_example_and_equals_eager_bit_for_bit():
    """The fast path itself (not the whole-batch fallback) must give the eager gradients and steps."""
    from valuegrad.nn.compiled import CompiledGradients
    from valuegrad.nn.train import Training

    X, y, model, params = _moons_model()
    _, _, twin, twin_params = _moons_model()
    opt, twin_opt = nn.optim.SGD(params, lr=0.5), nn.optim.SGD(twin_params, lr=0.5)
    gradients = CompiledGradients()
    for k in range(5):
        loss, _, _ = Training(model, nn.losses.hinge, None, params, 1e-4, opt).step(gradients, X, y, k, False)
        twin_opt.zero_grad()
        eager_loss = nn.losses.hinge([twin(x) for x in X], y) + nn.losses.l2(twin_params, 1e-4)
        eager_loss.backward()
        twin_opt.step()
        assert loss == eager_loss.data
        assert [p.data for p in params] == [p.data for p in twin_params]
    assert gradients.looped is True and gradients.compiled is None
    assert gradients.example is not None and "def forward(_batch, _shared):" in gradients.example.source


def test_models_the_loop_cannot_express_are_refused_and_compiled_whole():
    from valuegrad.autograd import Value
    from valuegrad.autograd.compiler.example import Example, NotLoopable

    w = Value(0.5)
    with pytest.raises(NotLoopable):
        Example(lambda x: w * x[0] + w * x[1], [1.0, 2.0])  # w twice in one example
    with pytest.raises(NotLoopable):
        Example(lambda x: w * x[0] if x[0] > 0 else w, [1.0, 2.0])  # a guard on the data

    class Twice(nn.Module):
        def __init__(self) -> None:
            self.w = Value(0.3)

        def forward(self, x):
            return self.w * x[0] + self.w * x[1]

        def parameters(self):
            return [self.w]

    from valuegrad.nn.compiled import CompiledGradients

    X, y = RECIPES["moons"].load(20, None, 0)
    results = []
    for compiled in (True, False):
        model = Twice()
        opt = nn.optim.SGD(model.parameters(), lr=0.1)
        gradients = CompiledGradients() if compiled else None
        loss = _hinge_step(model, X, y, opt, gradients)
        if gradients is not None:
            assert gradients.looped is False and gradients.compiled is not None
        results.append((loss, model.w.data))
    assert results[0] == results[1]


def test_a_batch_of_another_example_shape_falls_back_to_the_whole_trace():
    from valuegrad.autograd import Value
    from valuegrad.nn.compiled import CompiledGradients

    class Pair(nn.Module):
        def __init__(self) -> None:
            self.a, self.b = Value(0.3), Value(-0.2)

        def forward(self, x):
            return self.a * x[0] + self.b * x[1]

        def parameters(self):
            return [self.a, self.b]

    batches = [[[0.5, 1.0], [-1.0, 2.0]], [[0.5, 1.0, 9.0], [-1.0, 2.0, 9.0]]]
    labels = [1.0, -1.0]
    results = []
    for compiled in (True, False):
        model = Pair()
        opt = nn.optim.SGD(model.parameters(), lr=0.1)
        gradients = CompiledGradients() if compiled else None
        losses = []
        for k, batch in enumerate(batches):
            losses.append(_hinge_step(model, batch, labels, opt, gradients, k))
            if gradients is not None:
                assert gradients.looped is (k == 0)
        results.append((losses, model.a.data, model.b.data))
    assert results[0] == results[1]
