"""``fit(..., compile=True)`` trains exactly as eager mode: the same loss at every step."""

from __future__ import annotations

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


def test_moons_run_losses_equal_eager_at_every_step():
    eager, eager_params = _run(False, "sgd", 100)
    compiled, compiled_params = _run(True, "sgd", 100)
    assert len(compiled.loss) == 100
    assert all(abs(a - b) <= 1e-12 for a, b in zip(eager.loss, compiled.loss))
    assert compiled.loss == eager.loss  # in fact bit for bit
    assert compiled.accuracy == eager.accuracy
    assert compiled_params == eager_params


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
