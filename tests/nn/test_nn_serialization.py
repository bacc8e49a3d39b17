"""Model files: save -> load round trips exactly; every kind of bad file is refused clearly and left untouched."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import valuegrad.nn as nn
from valuegrad.nn import serialization


def saved(tmp_path: Path, model: nn.Module | None = None) -> Path:
    path = tmp_path / "model.json"
    (model or nn.MLP(2, [3, 1], rng=0)).save(path)
    return path


@pytest.mark.parametrize(
    "model",
    [
        nn.MLP(2, [16, 16, 1], rng=0),
        nn.MLP(3, [4, 2], activation="prelu", output_activation="sigmoid", rng=1),
        nn.Layer(2, 3, nn.Maxout, pieces=3, rng=2),
        nn.Layer(2, 2, nn.RBF, gamma=0.5, rng=3),
        nn.Neuron(4, activation="elu", rng=4),
    ],
    ids=["mlp", "prelu-mlp", "maxout-layer", "rbf-layer", "neuron"],
)
def test_save_then_load_gives_identical_outputs(tmp_path: Path, model: nn.Module) -> None:
    path = saved(tmp_path, model)
    loaded = nn.load(path)
    assert type(loaded) is type(model) and loaded.config() == model.config()
    assert loaded.state_dict() == model.state_dict()  # bit for bit: JSON floats round-trip exactly
    nin = model.config()["nin"]
    for x in ([0.1 * i for i in range(nin)], [-1.5] * nin, [3.25] * nin):
        out, back = model(x), loaded(x)
        out, back = (out, back) if isinstance(out, list) else ([out], [back])
        assert [v.data for v in back] == [v.data for v in out]
    assert [p.module_path for p in loaded.parameters()] == [p.module_path for p in model.parameters()]


@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=17, max_size=17))
def test_any_finite_parameters_round_trip_exactly(tmp_path_factory, values: list[float]) -> None:
    model = nn.MLP(2, [4, 1], rng=0)
    for p, v in zip(model.parameters(), values):
        p.data = v
    path = tmp_path_factory.mktemp("roundtrip") / "m.json"
    model.save(path)
    assert [p.data for p in nn.load(path).parameters()] == values


def test_file_is_versioned_json_with_the_architecture(tmp_path: Path) -> None:
    document = json.loads(saved(tmp_path).read_text())
    assert document["format"] == "valuegrad-model" and document["version"] == 2
    assert document["architecture"] == {
        "class": "MLP",
        "config": {"nin": 2, "sizes": [3, 1], "activation": "relu", "output_activation": "linear"},
    }
    assert next(iter(document["parameters"])) == "layers.0.neurons.0.w.0"


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path: Path, monkeypatch) -> None:
    path = saved(tmp_path)
    original = path.read_bytes()
    other = nn.MLP(2, [3, 1], rng=99)

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        other.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == original
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]
    other.save(path)
    assert nn.load(path).state_dict() == other.state_dict()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]
    assert (path.stat().st_mode & 0o777) != 0o600  # not left private like a temp file


def test_save_refuses_a_diverged_model(tmp_path: Path) -> None:
    model = nn.MLP(2, [3, 1], rng=0)
    model.layers[0].neurons[1].b.data = float("nan")
    with pytest.raises(ValueError, match=r"parameter 'layers.0.neurons.1.b' is nan .*diverged"):
        model.save(tmp_path / "m.json")
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_unregistered_modules_with_a_hint(tmp_path: Path) -> None:
    class Custom(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = nn.Neuron(2, rng=0)

    with pytest.raises(ValueError, match=r"not a registered module type.*nn\.serialization\.register"):
        Custom().save(tmp_path / "m.json")


def test_registered_custom_module_round_trips(tmp_path: Path) -> None:
    @serialization.register
    class Twice(nn.Module):
        def __init__(self, nin: int, rng: object = None) -> None:
            super().__init__()
            self.nin = nin
            self.inner = nn.Neuron(nin, rng=rng)  # type: ignore[arg-type]

        def forward(self, x):
            return self.inner(x) * 2

        def config(self):
            return {"nin": self.nin}

    model = Twice(3, rng=5)
    model.save(tmp_path / "t.json")
    assert nn.load(tmp_path / "t.json")([1.0, 2.0, 3.0]).data == model([1.0, 2.0, 3.0]).data


def _document(tmp_path: Path) -> dict:
    return json.loads(saved(tmp_path).read_text())


def _bad_files(tmp_path: Path) -> dict[str, tuple[bytes, str]]:
    good = saved(tmp_path).read_bytes()
    doc = _document(tmp_path)

    def variant(change) -> bytes:
        d = json.loads(good)
        change(d)
        return json.dumps(d).encode()

    def drop_param(d):
        del d["parameters"]["layers.1.neurons.0.b"]

    def extra_param(d):
        d["parameters"]["layers.2.neurons.0.b"] = 0.0

    def wider(d):
        d["architecture"]["config"]["sizes"] = [4, 1]

    assert doc["format"] == "valuegrad-model"
    return {
        "truncated": (good[: len(good) // 2], "malformed JSON .*looks truncated"),
        "empty": (b"", "it is empty"),
        "whitespace": (b"  \n", "it is empty"),
        "not json": (b"hello world", "malformed JSON at line 1 column 1"),
        "binary": (b"\x89PNG\r\n\x1a\n\x00\x00", "not UTF-8 text"),
        "json list": (b"[1, 2, 3]", "some other JSON file"),
        "foreign json": (b'{"name": "package.json", "version": 1}', "some other JSON file"),
        "future version": (variant(lambda d: d.update(version=3)), "format version 3 is not supported"),
        "bool version": (variant(lambda d: d.update(version=True)), "format version True is not supported"),
        "unknown class": (
            variant(lambda d: d["architecture"].update({"class": "os.system"})),
            "unknown module class 'os.system'",
        ),
        "no architecture": (variant(lambda d: d.pop("architecture")), '"architecture" must be an object'),
        "bad config": (
            variant(lambda d: d["architecture"]["config"].update(activation="swish")),
            "architecture is invalid: unknown activation 'swish'",
        ),
        "unexpected config key": (
            variant(lambda d: d["architecture"]["config"].update(rng=4)),
            "architecture is invalid",
        ),
        "huge architecture": (
            variant(lambda d: d["architecture"]["config"].update(sizes=[10**9, 1])),
            "asks for size 1000000000 but the file holds only 13 parameters",
        ),
        "missing parameter": (variant(drop_param), "MLP with this config has 13 parameters but the file holds 12"),
        "extra parameter": (variant(extra_param), "MLP with this config has 13 parameters but the file holds 14"),
        "wrong shape": (variant(wider), "do not fit the architecture"),
        "no parameters": (variant(lambda d: d.pop("parameters")), '"parameters" must be an object'),
        "NaN literal": (good.replace(b": 0.0", b": NaN", 1), "holds NaN"),
        "Infinity literal": (good.replace(b": 0.0", b": -Infinity", 1), "holds -Infinity"),
        "huge number": (good.replace(b": 0.0", b": 1e999", 1), "must be a finite number, got float inf"),
        "string parameter": (
            variant(lambda d: d["parameters"].update({"layers.0.neurons.0.b": "0.5"})),
            "must be a number \\(an int or a float\\), got str",
        ),
        "null parameter": (
            variant(lambda d: d["parameters"].update({"layers.0.neurons.0.b": None})),
            "must be a number \\(an int or a float\\), got NoneType",
        ),
        "deeply nested": (b"[" * 100_000 + b"]" * 100_000, "nested too deeply|some other JSON file"),
    }


CASES = [
    "truncated",
    "empty",
    "whitespace",
    "not json",
    "binary",
    "json list",
    "foreign json",
    "future version",
    "bool version",
    "unknown class",
    "no architecture",
    "bad config",
    "unexpected config key",
    "huge architecture",
    "missing parameter",
    "extra parameter",
    "wrong shape",
    "no parameters",
    "NaN literal",
    "Infinity literal",
    "huge number",
    "string parameter",
    "null parameter",
    "deeply nested",
]


@pytest.mark.parametrize("case", CASES)
def test_bad_model_files_raise_valueerror_naming_the_file_and_are_not_modified(tmp_path: Path, case: str) -> None:
    content, message = _bad_files(tmp_path)[case]
    path = tmp_path / "bad model.json"
    path.write_bytes(content)
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    with pytest.raises(ValueError, match=message) as caught:
        nn.load(path)
    assert str(path) in str(caught.value) and "is not a valid valuegrad model file" in str(caught.value)
    error = caught.value
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)  # no chained traceback
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad model.json", "model.json"]


def test_the_bad_file_list_is_exhaustively_tested(tmp_path: Path) -> None:
    assert sorted(_bad_files(tmp_path)) == sorted(CASES)


def test_missing_file_is_a_plain_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        nn.load(tmp_path / "nope.json")


@given(
    nin=st.integers(1, 4),
    sizes=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    activation=st.sampled_from(sorted(nn.activations.NAMES)),
    output_activation=st.sampled_from([None, "sigmoid", "tanh"]),
    seed=st.integers(0, 2**32 - 1),
    x=st.lists(st.floats(-3, 3), min_size=4, max_size=4),
)
def test_any_mlp_round_trips_with_identical_outputs(
    tmp_path_factory, nin, sizes, activation, output_activation, seed, x
) -> None:
    model = nn.MLP(nin, sizes, activation=activation, output_activation=output_activation, rng=seed)
    fan_ins = [nin, *sizes[:-1]]
    extra = sum(sizes[:-1]) if activation == "prelu" else 0
    extra += sizes[-1] if output_activation == "prelu" else 0
    assert len(model.parameters()) == sum((f + 1) * s for f, s in zip(fan_ins, sizes)) + extra
    path = tmp_path_factory.mktemp("any") / "m.json"
    model.save(path)
    loaded = nn.load(path)
    assert [v.data for v in loaded(x[:nin])] == [v.data for v in model(x[:nin])]
