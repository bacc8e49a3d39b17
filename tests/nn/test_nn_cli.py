"""`python -m valuegrad.nn train`: end to end in a temporary directory, and one-line errors with exit status 2."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

import valuegrad.nn as nn
from valuegrad.nn import cli

REPO = Path(__file__).resolve().parents[2]


def run(argv: list[str], capsys) -> tuple[int, str, str]:
    status = cli.main(argv)
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_train_moons_writes_model_plots_and_graph(tmp_path: Path, capsys) -> None:
    pytest.importorskip("matplotlib", reason="the plots need matplotlib (valuegrad[plots])")
    out = tmp_path / "runs" / "moons"
    status, stdout, stderr = run(["train", "moons", "--hidden", "4,4", "--steps", "3", "--out", str(out)], capsys)
    assert status == 0, stderr
    assert "final loss" in stdout and "train accuracy" in stdout
    assert "3/3" in stderr  # the progress bar
    assert sorted(p.name for p in out.iterdir()) == ["decision_boundary.png", "graph.svg", "loss.svg", "model.json"]
    model = nn.load(out / "model.json")
    assert isinstance(model, nn.MLP) and model.sizes == [4, 4, 1] and model.nin == 2
    assert (out / "decision_boundary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in (out / "loss.svg").read_text()
    graph = (out / "graph.svg").read_text()
    assert "<svg" in graph and "neuron 3" in graph  # one box per neuron
    assert "final loss" in stdout and str(out / "graph.svg") in stdout


def test_train_reports_accuracy_that_matches_the_saved_model(tmp_path: Path, capsys) -> None:
    status, stdout, _ = run(["train", "xor", "--steps", "100", "--out", str(tmp_path), "--no-progress"], capsys)
    assert status == 0
    model = nn.load(tmp_path / "model.json")
    X, y = nn.data.xor()
    accuracy = nn.metrics.binary_accuracy(nn.predict(model, X), y)
    assert f"train accuracy {accuracy:.1%}" in stdout


def test_encoder_has_no_decision_boundary_and_multiclass_spiral_does(tmp_path: Path, capsys) -> None:
    status, _, _ = run(["train", "encoder", "--steps", "3", "--out", str(tmp_path / "e"), "--no-progress"], capsys)
    assert status == 0
    assert sorted(p.name for p in (tmp_path / "e").iterdir()) == ["graph.svg", "loss.svg", "model.json"]
    assert nn.load(tmp_path / "e" / "model.json").sizes == [3, 8]
    args = ["train", "spiral", "--hidden", "4", "--samples", "30", "--steps", "2", "--out", str(tmp_path / "s")]
    status, _, _ = run([*args, "--no-progress"], capsys)
    assert status == 0 and (tmp_path / "s" / "decision_boundary.png").exists()


def test_default_output_directory_is_runs_dataset(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    status, _, _ = run(["train", "circles", "--hidden", "3", "--steps", "2", "--no-progress", "--no-plots"], capsys)
    assert status == 0
    assert sorted(p.name for p in (tmp_path / "runs" / "circles").iterdir()) == ["graph.svg", "model.json"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["train", "mnist"], "unknown dataset 'mnist'; choose one of moons, circles, spiral, xor, encoder"),
        (["train", "moons", "--hidden", "16,x"], "--hidden '16,x': give layer widths as comma-separated whole numbers"),
        (["train", "moons", "--hidden", "16,0"], "--hidden '16,0': every layer width must be between 1 and 4096"),
        (["train", "moons", "--hidden", ""], "--hidden '': give layer widths"),
        (["train", "moons", "--steps", "0"], "--steps 0: must be between 1 and 1000000"),
        (["train", "moons", "--steps", "ten"], "--steps 'ten': expected a whole number"),
        (["train", "moons", "--lr", "-1"], "--lr -1: must be a positive finite number"),
        (["train", "moons", "--lr", "nan"], "--lr nan: must be a positive finite number"),
        (["train", "moons", "--samples", "2"], "--samples 2: must be between 4 and 100000"),
        (["train", "moons", "--activation", "swish"], "unknown --activation 'swish'"),
        (["train", "xor", "--samples", "50"], "--samples does not apply to xor: it is a fixed set of 4 points"),
        (["train", "encoder", "--noise", "0.1"], "--noise does not apply to encoder: it is a fixed set of 8 points"),
        (["train", "moons", "--bogus"], "unrecognized arguments: --bogus"),
        (["train"], "the following arguments are required: DATASET"),
        ([], "say what to do, e.g. python -m valuegrad.nn train moons"),
        (["fly"], "invalid choice: 'fly'"),
    ],
)
def test_bad_arguments_exit_2_with_one_line(argv: list[str], message: str, capsys, tmp_path: Path) -> None:
    status, stdout, stderr = run(argv, capsys)
    assert status == 2
    assert stderr.count("\n") == 1 and stderr.startswith("python -m valuegrad.nn")
    assert message in stderr
    assert "Traceback" not in stderr and stdout == ""


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("-", "argument --out: training writes a directory of files (model.json, plots, graph), not standard output"),
        ("", "argument --out: give a directory name"),
    ],
)
def test_out_that_is_standard_output_or_nothing_is_refused_and_nothing_is_written(
    tmp_path: Path, capsys, monkeypatch, out: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    status, stdout, stderr = run(["train", "xor", "--steps", "2", "--no-progress", "--out", out], capsys)
    assert status == 2 and stdout == ""
    assert stderr.startswith(f"python -m valuegrad.nn: error: {message}") and stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_out_that_is_a_file_is_refused(tmp_path: Path, capsys) -> None:
    target = tmp_path / "taken"
    target.write_text("keep me")
    status, _, stderr = run(["train", "xor", "--out", str(target)], capsys)
    assert status == 2 and "exists and is not a directory" in stderr
    assert target.read_text() == "keep me"


def test_missing_matplotlib_is_explained_before_training(tmp_path: Path, capsys, monkeypatch) -> None:

    monkeypatch.setattr(nn.plots, "have_matplotlib", lambda: False)
    status, stdout, stderr = run(["train", "moons", "--out", str(tmp_path / "m")], capsys)
    assert status == 2 and stdout == ""
    assert "matplotlib is not installed: pip install 'valuegrad[plots]' (or pass --no-plots)" in stderr
    assert not (tmp_path / "m").exists()


def test_graph_failure_still_saves_the_rest(tmp_path: Path, capsys, monkeypatch) -> None:
    from valuegrad import autograd

    def no_dot(*args, **kwargs):
        raise RuntimeError("no dot executable found\nsecond line")

    monkeypatch.setattr(autograd, "draw", no_dot)
    status, _, stderr = run(["train", "xor", "--steps", "2", "--out", str(tmp_path), "--no-progress"], capsys)
    assert status == 0
    assert "skipped graph.svg: no dot executable found" in stderr and "second line" not in stderr
    assert (tmp_path / "model.json").exists() and not (tmp_path / "graph.svg").exists()


def test_divergence_exits_1_with_a_hint(tmp_path: Path, capsys) -> None:
    status, _, stderr = run(
        ["train", "moons", "--lr", "1e300", "--steps", "5", "--out", str(tmp_path), "--no-progress"], capsys
    )
    assert status == 1 and "diverged" in stderr and "try --lr smaller" in stderr
    assert list(tmp_path.iterdir()) == []


def test_python_dash_m_nn_end_to_end(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    command = [sys.executable, "-m", "valuegrad.nn", "train", "moons", "--hidden", "4", "--steps", "2", "--out", "out"]
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out" / "model.json").exists()
    bad = subprocess.run(
        [sys.executable, "-m", "valuegrad.nn", "train", "nosuch"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().count("\n") == 0 and "Traceback" not in bad.stderr


# ------------------------------------------------ issue 11, items 16, 18 and 19


def test_huge_noise_is_refused_up_front(capsys) -> None:
    status, stdout, stderr = run(["train", "moons", "--noise", "1e300"], capsys)
    assert status == 2 and stdout == ""
    assert "--noise 1e300: must be a number from 0 to 1000" in stderr


@pytest.mark.parametrize(
    ("nin", "sizes", "samples"),
    [(2, [16, 16, 1], 100), (2, [64, 64, 1], 100), (2, [256, 256, 1], 10), (8, [3, 8], 8)],
)
def test_memory_estimate_is_an_honest_upper_bound(nin: int, sizes: list[int], samples: int) -> None:
    import tracemalloc

    estimate = cli.estimate_training_bytes(nin, sizes, samples, "relu")
    tracemalloc.start()
    model = nn.MLP(nin, sizes, rng=0)
    outputs = [model([0.5] * nin) for _ in range(samples)]
    loss = nn.losses.mse(outputs, [[1.0] * sizes[-1]] * samples) + nn.losses.l2(model.parameters(), 1e-4)
    loss.backward()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak <= estimate <= 2.5 * peak, (peak, estimate)


def test_a_model_beyond_the_memory_budget_is_refused_before_it_is_built(capsys, monkeypatch) -> None:
    built = []
    monkeypatch.setattr(cli, "MLP", type("Spy", (nn.MLP,), {"__init__": lambda self, *a, **k: built.append(a)}))
    status, stdout, stderr = run(["train", "moons", "--hidden", "4096,4096,4096", "--no-progress"], capsys)
    assert status == 2 and stdout == "" and built == []
    assert "would need about" in stderr and "GB" in stderr and "--max-memory" in stderr
    assert stderr.count("\n") == 1


def test_max_memory_raises_the_budget(capsys) -> None:
    needed = cli.estimate_training_bytes(2, [512, 512, 1], 100, "relu") / 1e9
    status, _, stderr = run(["train", "moons", "--hidden", "512,512", "--max-memory", f"{needed / 2}"], capsys)
    assert status == 2 and f"raise the budget with --max-memory {math.ceil(needed)}" in stderr


def test_the_training_line_is_printed_before_the_model_is_built(tmp_path: Path, capsys, monkeypatch) -> None:
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "MLP", type("Spy", (nn.MLP,), {"__init__": interrupted}))
    status, stdout, _ = run(["train", "moons", "--hidden", "4,4", "--out", str(tmp_path)], capsys)
    assert status == 130
    assert stdout.startswith("training MLP(2, [4, 4, 1]) with 37 parameters on moons (100 samples)")


def _train_command(tmp_path: Path) -> list[str]:
    return [sys.executable, "-m", "valuegrad.nn", "train", "xor", "--steps", "2", "--no-progress", "--out", "o"]


ENV = {**os.environ, "PYTHONPATH": str(REPO / "src")}


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
def test_a_full_disk_on_stdout_is_one_line_and_exit_1(tmp_path: Path) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run(
            _train_command(tmp_path), cwd=tmp_path, env=ENV, stdout=full, stderr=subprocess.PIPE, text=True, timeout=120
        )
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "could not write the output: No space left on device" in done.stderr


def test_a_closed_pipe_exits_quietly(tmp_path: Path) -> None:
    reader, writer = os.pipe()
    os.close(reader)  # the reader is gone before anything is written (like `| head -c 0`)
    try:
        done = subprocess.run(
            _train_command(tmp_path),
            cwd=tmp_path,
            env=ENV,
            stdout=writer,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    finally:
        os.close(writer)
    assert done.returncode == 1 and done.stderr == ""


def test_head_c_1_exits_quietly(tmp_path: Path) -> None:
    command = " ".join(_train_command(tmp_path)) + " | head -c 1"
    done = subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=120
    )
    assert done.stdout == "t" and done.stderr == ""
