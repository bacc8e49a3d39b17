"""Checkpoints hold optimizer state that is possible: each optimizer's invariants are checked
when a file is loaded (issue 22, item 1), and an oversized file is refused by its size alone."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

import valuegrad.nn as nn
from valuegrad.nn import optim, serialization


def _checkpoint(tmp_path: Path, optimizer_class: type[nn.optim.Optimizer], **settings: object) -> Path:
    model = nn.MLP(2, [3, 1], rng=0)
    optimizer = optimizer_class(model.parameters(), **settings)
    X, y = nn.data.moons(10, seed=1)
    nn.fit(model, X, y, loss="hinge", optimizer=optimizer, steps=2, progress=False)
    path = tmp_path / "checkpoint.json"
    model.save(path, optimizer=optimizer)
    return path


def _changed(path: Path, change) -> bytes:
    document = json.loads(path.read_text())
    change(document["optimizer"]["state"])
    raw = json.dumps(document).replace("1.5e+300", "1e999").encode()  # 1e999: a JSON number, inf as a float
    path.write_bytes(raw)
    return raw


def _set(name: str, index: int, value: object):
    return lambda state: state["buffers"][name].__setitem__(index, value)


@pytest.mark.parametrize(
    ("optimizer_class", "change", "field", "message"),
    [
        (nn.optim.Adam, _set("v", 2, -1e-300), "v[2]", "v\\[2\\] must be a finite number >= 0"),
        (nn.optim.Adam, _set("v", 0, -5.0), "v[0]", "must be a finite number >= 0"),
        (nn.optim.Adam, lambda s: s.update(steps=10**400), "steps", "steps must be a whole number between 0 and"),
        (nn.optim.Adam, lambda s: s.update(steps=optim.MAX_STEPS + 1), "steps", "steps must be a whole number"),
        (nn.optim.Adam, _set("m", 1, 1.5e300), "m[1]", "m\\[1\\] must be a finite number"),
        (nn.optim.Adam, lambda s: s["buffers"].update(v=[0.0] * 1000), "'v'", "buffer 'v' must be a list of 13"),
        (nn.optim.SGD, _set("velocity", 4, 10**400), "velocity[4]", "must be a number that fits in a float"),
        (nn.optim.SGD, lambda s: s.update(steps=-3), "steps", "steps must be a whole number between 0 and"),
    ],
    ids=["adam-v-tiny-negative", "adam-v-negative", "adam-steps-10**400", "adam-steps-over-bound",
         "adam-m-overflows", "adam-v-too-long", "sgd-velocity-overflows", "sgd-steps-negative"],
)  # fmt: skip
def test_impossible_optimizer_state_is_refused_naming_the_file_and_the_field(
    tmp_path: Path, optimizer_class, change, field: str, message: str
) -> None:
    settings = {"momentum": 0.9} if optimizer_class is nn.optim.SGD else {}
    path = _checkpoint(tmp_path, optimizer_class, **settings)
    raw = _changed(path, change)
    with pytest.raises(ValueError, match=message) as caught:
        nn.load_checkpoint(path)
    text = str(caught.value)
    assert str(path) in text and "its optimizer state is invalid" in text and field in text
    assert path.read_bytes() == raw


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_momentum_and_moment_buffers_must_be_finite(value: float) -> None:
    model = nn.MLP(2, [1], rng=0)
    for optimizer in (nn.optim.SGD(model.parameters(), momentum=0.5), nn.optim.Adam(model.parameters())):
        state = optimizer.state_dict()
        name = optimizer.BUFFERS[0]
        state["buffers"][name][1] = value
        with pytest.raises(ValueError, match=f"{name}\\[1\\] must be a finite number"):
            optimizer.load_state_dict(state)
        assert optimizer.state_dict()["buffers"][name][1] == 0.0


def test_the_largest_step_count_loads_and_trains(tmp_path: Path) -> None:
    path = _checkpoint(tmp_path, nn.optim.Adam)
    _changed(path, lambda state: state.update(steps=optim.MAX_STEPS))
    model, optimizer = nn.load_checkpoint(path)
    assert optimizer is not None and optimizer.steps == 2**53
    X, y = nn.data.moons(10, seed=1)
    nn.fit(model, X, y, loss="hinge", optimizer=optimizer, steps=1, progress=False)
    assert optimizer.steps == 2**53 + 1


def test_a_million_entry_buffer_is_refused_in_about_the_time_parsing_takes(tmp_path: Path) -> None:
    path = _checkpoint(tmp_path, nn.optim.Adam)
    raw = _changed(path, lambda state: state["buffers"].update(m=[0.0] * 1_000_000))
    assert len(raw) > 4_000_000
    start = time.perf_counter()
    json.loads(raw)
    parsing = time.perf_counter() - start  # measured here, so a loaded machine slows both alike
    start = time.perf_counter()
    with pytest.raises(ValueError, match="buffer 'm' must be a list of 13 numbers"):
        nn.load_checkpoint(path)
    assert time.perf_counter() - start < 3 * parsing + 0.3


def test_an_oversized_file_is_refused_by_its_size_without_being_parsed(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "huge.json"
    with open(path, "wb") as file:  # sparse: nothing is written but the size
        file.truncate(serialization.MAX_FILE_BYTES + 1)
    calls: list[str] = []

    def spy(name: str, real):
        def called(*args, **kwargs):
            calls.append(name)
            return real(*args, **kwargs)

        return called

    monkeypatch.setattr(serialization.json, "loads", spy("json.loads", json.loads))
    monkeypatch.setattr(serialization, "_parse", spy("_parse", serialization._parse))
    start = time.perf_counter()
    with pytest.raises(ValueError, match=f"it is {serialization.MAX_FILE_BYTES + 1} bytes, more than the") as caught:
        nn.load_checkpoint(path)
    assert time.perf_counter() - start < 0.5
    assert str(path) in str(caught.value) and calls == []


def test_a_file_just_within_the_size_limit_is_parsed(tmp_path: Path, monkeypatch) -> None:
    path = _checkpoint(tmp_path, nn.optim.SGD)
    monkeypatch.setattr(serialization, "MAX_FILE_BYTES", os.path.getsize(path))
    assert nn.load_checkpoint(path).optimizer is not None
    monkeypatch.setattr(serialization, "MAX_FILE_BYTES", os.path.getsize(path) - 1)
    with pytest.raises(ValueError, match="more than the"):
        nn.load_checkpoint(path)


def test_a_pipe_is_read_no_further_than_the_limit(tmp_path: Path, monkeypatch) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    monkeypatch.setattr(serialization, "MAX_FILE_BYTES", 1000)
    pid = os.fork()
    if pid == 0:  # the writer: far more than the limit; it gets EPIPE once the reader is gone
        try:
            with open(fifo, "wb") as file:
                file.write(b" " * 100_000)
        finally:
            os._exit(0)
    try:
        with pytest.raises(ValueError, match="over 1000 bytes"):
            nn.load_checkpoint(fifo)
    finally:
        os.waitpid(pid, 0)
