"""Model files, hardened: closed-form size checks before building, no recursion, huge numbers,
old (version 1) files, optimizer state for resuming, and a fuzzer over damaged files."""

from __future__ import annotations

import json
import time
import tracemalloc
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import valuegrad.nn as nn
from valuegrad.nn import serialization

DATA = Path(__file__).resolve().parents[1] / "data"


def refused(path: Path, message: str) -> ValueError:
    with pytest.raises(ValueError, match=message) as caught:
        nn.load(path)
    assert str(path) in str(caught.value) and "is not a valid valuegrad model file" in str(caught.value)
    return caught.value


# ------------------------------------------------------- version 1 still loads


@pytest.mark.parametrize(
    ("name", "cls", "outputs"),
    [  # outputs on [0.25, -0.5], computed by the valuegrad that wrote these files (format version 1)
        ("model_v1_mlp.json", nn.MLP, [-0.20384598384423935]),
        ("model_v1_maxout_layer.json", nn.Layer, [0.652668412673975, 0.46519821882493584]),
        ("model_v1_rbf_layer.json", nn.Layer, [0.30328152430501276, 0.49618709732648714]),
    ],
)
def test_version_1_files_still_load_and_compute_what_they_did(name: str, cls: type, outputs: list[float]) -> None:
    path = DATA / name
    assert json.loads(path.read_text())["version"] == 1
    model = nn.load(path)
    assert type(model) is cls
    assert [v.data for v in model([0.25, -0.5])] == outputs


def test_version_1_unit_names_are_classes_now(tmp_path: Path) -> None:
    layer = nn.load(DATA / "model_v1_maxout_layer.json")
    assert isinstance(layer.neurons[0], nn.Maxout) and layer.config()["unit"] == "Maxout"
    layer.save(tmp_path / "again.json")
    document = json.loads((tmp_path / "again.json").read_text())
    assert document["version"] == serialization.VERSION == 2 and document["architecture"]["config"]["unit"] == "Maxout"
    old = json.loads((DATA / "model_v1_maxout_layer.json").read_text())
    old["version"] = 2  # a version-2 file must name the class, not the old lower-case name
    (tmp_path / "mixed.json").write_text(json.dumps(old))
    refused(tmp_path / "mixed.json", "unknown unit class 'maxout'")


# ------------------------------------------ the closed forms agree with building


@settings(max_examples=40, deadline=None)
@given(
    nin=st.integers(1, 5),
    sizes=st.lists(st.integers(1, 4), min_size=1, max_size=3),
    activation=st.sampled_from(sorted(nn.activations.NAMES)),
    output_activation=st.sampled_from(sorted(nn.activations.NAMES)),
    pieces=st.integers(1, 4),
    gamma=st.floats(0.1, 3.0),
)
def test_implied_parameter_counts_equal_the_built_models(nin, sizes, activation, output_activation, pieces, gamma):
    models = [
        nn.MLP(nin, sizes, activation=activation, output_activation=output_activation, rng=0),
        nn.Neuron(nin, activation=activation, rng=0),
        nn.Maxout(nin, pieces=pieces, rng=0),
        nn.RBF(nin, gamma=gamma, rng=0),
        nn.Layer(nin, sizes[0], activation=activation, rng=0),
        nn.Layer(nin, sizes[0], nn.Maxout, pieces=pieces, rng=0),
        nn.Layer(nin, sizes[0], nn.RBF, gamma=gamma, rng=0),
    ]
    for model in models:
        config = dict(model.config())
        if isinstance(model, nn.Layer):
            config["unit"] = type(model.neurons[0])
        assert type(model).implied_parameters(config) == model.num_parameters(), model


# ---------------------------------------------- issue 11, items 4, 5 and 6


def test_multiplied_sizes_are_refused_before_anything_is_built(tmp_path: Path) -> None:
    # 200 parameters, but the config asks for 200 maxout units of 200 pieces of 201 weights: 8 million.
    path = tmp_path / "maxout.json"
    config = {"nin": 200, "nout": 200, "unit": "Maxout", "pieces": 200}
    parameters = {f"p{i}": 0.0 for i in range(200)}
    document = {"format": "valuegrad-model", "version": 2, "architecture": {"class": "Layer", "config": config}}
    path.write_text(json.dumps({**document, "parameters": parameters}))
    tracemalloc.start()
    start = time.perf_counter()
    refused(path, "Layer with this config has 8040000 parameters but the file holds 200")
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert elapsed < 0.5 and peak < 5_000_000


@pytest.mark.parametrize("depth", [20, 600, 100_000])
def test_deeply_nested_configs_are_a_valueerror_not_a_recursionerror(tmp_path: Path, depth: int) -> None:
    path = tmp_path / "deep.json"
    sizes = "[" * depth + "1" + "]" * depth
    text = (
        '{"format": "valuegrad-model", "version": 2, "architecture": {"class": "MLP", "config": '
        f'{{"nin": 2, "sizes": {sizes}}}}}, "parameters": {{}}}}'
    )
    path.write_text(text)
    refused(path, "nested more than 16 deep|nested too deeply")


def test_a_4000_digit_parameter_is_a_valueerror_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    nn.MLP(2, [1], rng=0).save(path)
    text = path.read_text()
    assert '.b": 0.0' in text
    path.write_text(text.replace('.b": 0.0', '.b": ' + "9" * 4000))
    refused(path, "must be a number that fits in a float")


def test_a_4000_digit_size_is_a_valueerror_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    nn.MLP(2, [1], rng=0).save(path)
    document = json.loads(path.read_text())
    document["architecture"]["config"]["sizes"] = [10**3999]
    path.write_text(json.dumps(document))
    error = refused(path, r"asks for size a number of about 3999 digits but the file holds only 3 parameters")
    assert len(str(error)) < 300


# ------------------------------------------------------ optimizer state: resume


def _train(model, optimizer, steps):
    X, y = nn.data.moons(20, seed=1)
    nn.fit(model, X, y, loss="hinge", optimizer=optimizer, steps=steps, progress=False)


@pytest.mark.parametrize(
    "make",
    [
        lambda params: nn.optim.SGD(params, lr=0.1, momentum=0.9, weight_decay=1e-3),
        lambda params: nn.optim.Adam(params, lr=0.01, betas=(0.8, 0.99), eps=1e-7),
    ],
    ids=["sgd-momentum", "adam"],
)
def test_training_resumes_from_a_model_file_exactly(tmp_path: Path, make) -> None:
    straight = nn.MLP(2, [4, 1], rng=3)
    _train(straight, make(straight.parameters()), 6)

    first = nn.MLP(2, [4, 1], rng=3)
    optimizer = make(first.parameters())
    _train(first, optimizer, 3)
    first.save(tmp_path / "checkpoint.json", optimizer=optimizer)
    model, resumed = nn.load_checkpoint(tmp_path / "checkpoint.json")
    assert resumed is not None and type(resumed) is type(optimizer) and resumed.steps == 3
    assert resumed.state_dict() == optimizer.state_dict()
    _train(model, resumed, 3)
    assert model.state_dict() == straight.state_dict()  # bit for bit, as if never interrupted


def test_a_file_without_optimizer_state_loads_with_none(tmp_path: Path) -> None:
    nn.MLP(2, [1], rng=0).save(tmp_path / "m.json")
    assert nn.load_checkpoint(tmp_path / "m.json").optimizer is None


def test_save_refuses_an_optimizer_over_other_parameters(tmp_path: Path) -> None:
    model, other = nn.MLP(2, [1], rng=0), nn.MLP(2, [1], rng=1)
    with pytest.raises(ValueError, match="does not hold this model's parameters"):
        model.save(tmp_path / "m.json", optimizer=nn.optim.SGD(other.parameters()))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda s: s.update(steps=-1), "steps must be a whole number between 0 and 9007199254740992"),
        (lambda s: s.update(steps=1.5), "steps must be a whole number"),
        (lambda s: s["hyperparameters"].update(eps=0), "eps must be a finite number > 0"),
        (lambda s: s["hyperparameters"].update(betas=[0.9, 0.9, 0.9]), "betas must be a pair"),
        (lambda s: s["hyperparameters"].pop("lr"), "hyperparameters must be an object with lr, betas, eps"),
        (lambda s: s["buffers"]["m"].pop(), "buffer 'm' must be a list of 3 numbers"),
        (lambda s: s["buffers"]["v"].__setitem__(0, "x"), r"v\[0\] must be a number"),
        (lambda s: s.update(extra=1), "unexpected entry 'extra'"),
    ],
)
def test_optimizer_state_is_checked_whole_before_any_change(tmp_path: Path, change, message) -> None:
    model = nn.MLP(2, [1], rng=0)
    optimizer = nn.optim.Adam(model.parameters(), lr=0.05)
    _train(model, optimizer, 2)
    model.save(tmp_path / "m.json", optimizer=optimizer)
    document = json.loads((tmp_path / "m.json").read_text())
    change(document["optimizer"]["state"])
    (tmp_path / "m.json").write_text(json.dumps(document))
    refused(tmp_path / "m.json", "its optimizer state is invalid: .*" + message)
    fresh = nn.optim.Adam(model.parameters(), lr=0.05)
    before = fresh.state_dict()
    with pytest.raises((TypeError, ValueError), match=message):
        fresh.load_state_dict(document["optimizer"]["state"])
    assert fresh.state_dict() == before


# --------------------------------------------------------- the fuzzer (item 7)

_SEED_FILES = {
    "mlp": nn.MLP(2, [3, 2], activation="prelu", rng=0),
    "maxout": nn.Layer(2, 2, nn.Maxout, pieces=2, rng=1),
    "rbf": nn.Layer(3, 2, nn.RBF, gamma=0.5, rng=2),
}


def _places(document: object) -> list[list[object]]:
    """Every path (list of keys) into a parsed file, the root's ``[]`` included."""
    places: list[list[object]] = []
    stack: list[tuple[list[object], object]] = [([], document)]
    while stack:
        path, node = stack.pop()
        places.append(path)
        if isinstance(node, dict):
            stack.extend(([*path, k], v) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend(([*path, i], v) for i, v in enumerate(node))
    return places


def _mutate(document: object, data: st.DataObject, within: tuple[object, ...] = ()) -> object:
    """One structural mutation anywhere in the parsed file (or in its part at ``within``):
    swap a type, nest, enlarge, multiply, negate."""
    part, reached = document, 0
    for key in within:  # as far as an earlier mutation left the way open
        if not (isinstance(part, dict) and key in part):
            break
        part, reached = part[key], reached + 1
    path = [*within[:reached], *data.draw(st.sampled_from(_places(part)), label="where")]
    parent, node = None, document
    for key in path:
        parent, node = node, node[key]  # type: ignore[index]
    replacement = data.draw(
        st.one_of(
            st.none(),
            st.booleans(),
            st.text(max_size=5),
            st.integers(-(10**30), 10**30),
            st.just(10**3000),
            st.floats(),
            st.just([node] * 3),
            st.just({"x": node}),
            st.just(json.loads("[" * 50 + "1" + "]" * 50)),
            st.just(node * 1000 if isinstance(node, int) and not isinstance(node, bool) else node),
            st.just(-node if isinstance(node, (int, float)) and not isinstance(node, bool) else node),
            st.just([0.0] * 100_000),
            st.just([]),
            st.just({}),
        ),
        label="replacement",
    )
    if parent is None:
        return replacement
    parent[path[-1]] = replacement  # type: ignore[index]
    return document


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.sampled_from(sorted(_SEED_FILES)), data=st.data())
def test_fuzzed_model_files_load_or_raise_a_valueerror_naming_the_file(tmp_path: Path, which: str, data) -> None:
    path = tmp_path / "fuzzed.json"
    _SEED_FILES[which].save(path)
    raw = path.read_bytes()
    kind = data.draw(st.sampled_from(["truncate", "flip", "structure", "structure twice"]), label="kind")
    if kind == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw) - 1), label="length")]
    elif kind == "flip":
        at = data.draw(st.integers(0, len(raw) - 1), label="at")
        raw = raw[:at] + bytes([raw[at] ^ (1 << data.draw(st.integers(0, 7), label="bit"))]) + raw[at + 1 :]
    else:
        document = json.loads(raw)
        for _ in range(2 if kind == "structure twice" else 1):
            document = _mutate(document, data)
        raw = json.dumps(document, allow_nan=True).encode()
    path.write_bytes(raw)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        model = nn.load(path)
    except ValueError as error:
        assert str(path) in str(error) and "is not a valid valuegrad model file" in str(error)
    else:
        assert isinstance(model, nn.Module) and model.num_parameters() > 0
        model.save(tmp_path / "again.json")  # whatever loads is a model that saves and reloads
        assert nn.load(tmp_path / "again.json").state_dict() == model.state_dict()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert time.perf_counter() - start < 2.0
    assert peak < 20_000_000
    assert path.read_bytes() == raw  # only ever read


# ------------------------------------------- the fuzzer, on optimizer state (issue 22)

_X, _Y = nn.data.moons(8, seed=2)


def _seed_checkpoint(which: str) -> tuple[nn.Module, nn.optim.Optimizer]:
    model = nn.MLP(2, [3, 1], rng=0)
    if which == "adam":
        optimizer: nn.optim.Optimizer = nn.optim.Adam(model.parameters(), lr=0.02, weight_decay=1e-3)
    else:
        optimizer = nn.optim.SGD(model.parameters(), lr=0.05, momentum=0.9 if which == "sgd-momentum" else 0.0)
    nn.fit(model, _X, _Y, loss="hinge", optimizer=optimizer, steps=2, progress=False)
    return model, optimizer


_SEED_CHECKPOINTS = {which: _seed_checkpoint(which) for which in ("adam", "sgd-momentum", "sgd")}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(which=st.sampled_from(sorted(_SEED_CHECKPOINTS)), data=st.data())
def test_fuzzed_optimizer_state_loads_and_trains_or_raises_a_valueerror(tmp_path: Path, which: str, data) -> None:
    path = tmp_path / "fuzzed.json"
    model, optimizer = _SEED_CHECKPOINTS[which]
    model.save(path, optimizer=optimizer)
    document = json.loads(path.read_bytes())
    for _ in range(data.draw(st.integers(1, 3), label="mutations")):
        within = data.draw(st.sampled_from([("optimizer",), ("optimizer", "state")]), label="within")
        document = _mutate(document, data, within)
    raw = json.dumps(document, allow_nan=True).encode()
    path.write_bytes(raw)
    tracemalloc.start()
    start = time.perf_counter()
    try:
        loaded, resumed = nn.load_checkpoint(path)
    except ValueError as error:
        assert str(path) in str(error) and "is not a valid valuegrad model file" in str(error)
    else:
        assert isinstance(loaded, nn.Module) and isinstance(resumed, nn.optim.Optimizer)
        assert resumed.params == loaded.parameters()
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert time.perf_counter() - start < 2.0
    assert peak < 40_000_000
    if "loaded" in locals():  # a usable pair: its first training step never fails
        steps = resumed.steps
        nn.fit(loaded, _X, _Y, loss="hinge", optimizer=resumed, steps=1, progress=False)
        assert resumed.steps == steps + 1
    assert path.read_bytes() == raw  # only ever read
