"""nn modules: structure, names, paths for drawing, forward values, gradients, init, input errors."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

import valuegrad.nn as nn
from valuegrad.autograd import Value, current_scope, scope, topological_order
from valuegrad.autograd.testing.oracles import assert_gradients_match
from valuegrad.nn import init as nn_init

# ----------------------------------------------------------------- helpers


def relu(x: float) -> float:
    return max(x, 0.0)


# --------------------------------------------------------------- structure


def test_micrograd_demo_mlp_has_337_parameters() -> None:
    model = nn.MLP(2, [16, 16, 1], rng=0)
    assert len(model.parameters()) == 337 == model.num_parameters()
    assert len(set(map(id, model.parameters()))) == 337


def test_named_parameters_are_dotted_and_in_stable_order() -> None:
    model = nn.MLP(2, [3, 1], rng=0)
    names = [name for name, _ in model.named_parameters()]
    assert names[:3] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b"]
    assert names[-1] == "layers.1.neurons.0.b"
    assert len(names) == 3 * 3 + 4
    assert names == [name for name, _ in nn.MLP(2, [3, 1], rng=1).named_parameters()]
    assert [p for _, p in model.named_parameters()] == model.parameters()


def test_parameter_order_matches_micrograd_neuron_order() -> None:
    neuron = nn.Neuron(3, rng=0)
    assert neuron.parameters() == [*neuron.w, neuron.b]


def test_parameters_carry_module_path_and_short_label() -> None:
    model = nn.MLP(2, [16, 16, 1], rng=0)
    named = dict(model.named_parameters())
    w = named["layers.0.neurons.3.w.1"]
    assert (w.module_path, w.label) == ("MLP.layers.0.neurons.3", "w1")
    b = named["layers.2.neurons.0.b"]
    assert (b.module_path, b.label) == ("MLP.layers.2.neurons.0", "b")
    assert model.layers[1].path == "MLP.layers.1"


def test_every_forward_value_carries_its_neurons_scope() -> None:
    model = nn.MLP(2, [4, 1], rng=0)
    (out,) = model([0.5, -1.0])
    for node in topological_order(out):
        if node.parents:  # made by a call: scoped; parameters are leaves made outside any call
            assert node.scope is not None and node.scope.path()[0].key is model
            assert node.scope.key in model.modules() and isinstance(node.scope.key, nn.Neuron)
            assert node.module_path is None
        else:
            assert node.scope is None and node.module_path.startswith("MLP.layers.")
    assert [s.label for s in out.scope.path()] == ["MLP", "layer 1", "neuron 0"]
    assert out.scope.key is model.layers[1].neurons[0]
    assert [s.key for s in out.scope.path()] == [model, model.layers[1], model.layers[1].neurons[0]]


def test_each_call_opens_a_fresh_scope_with_the_module_as_key() -> None:
    neuron = nn.Neuron(2, rng=0)
    first, second = neuron([1.0, 2.0]), neuron([1.0, 2.0])
    assert first.scope is not second.scope and first.scope.key is second.scope.key is neuron
    with scope("t = 3"):
        inside = neuron([1.0, 2.0])
    assert [s.label for s in inside.scope.path()] == ["t = 3", "Neuron"]
    assert current_scope() is None  # closed again, also after an error inside forward
    with pytest.raises(ValueError):
        neuron([1.0])
    assert current_scope() is None


def test_modules_define_only_forward() -> None:
    for cls in (nn.Neuron, nn.Maxout, nn.RBF, nn.Layer, nn.MLP):
        assert "__call__" not in vars(cls) and "forward" in vars(cls)


def test_nested_module_paths_follow_the_parent() -> None:
    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = nn.MLP(2, [3], rng=0)
            self.head = nn.Layer(3, 1, activation=None, rng=1)
            self.scale = Value(2.0)

        def forward(self, x):
            return [self.head(self.body(x))[0] * self.scale]

    net = Net()
    names = [name for name, _ in net.named_parameters()]
    assert names[0] == "body.layers.0.neurons.0.w.0"
    assert "head.neurons.0.b" in names
    assert names[-1] == "scale"
    w = dict(net.named_parameters())["body.layers.0.neurons.2.w.1"]
    assert w.module_path == "Net.body.layers.0.neurons.2"
    assert net.scale.module_path == "Net" and net.scale.label == "scale"
    (out,) = net([1.0, 2.0])
    assert [s.label for s in out.parents[0].scope.path()] == ["Net", "head", "neuron 0"]
    assert out.scope.key is net and net.head.neurons[0].path == "Net.head.neurons.0"
    # Re-rooting again (the net nested in something else) re-tags everything below.
    outer = nn.Module()
    outer.net = net
    assert w.module_path == "Module.net.body.layers.0.neurons.2"


def test_shared_parameter_is_listed_once() -> None:
    class Tied(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.first = nn.Neuron(2, rng=0)
            self.second = nn.Neuron(2, rng=1)
            self.second.w = self.first.w

    assert len(Tied().parameters()) == 2 + 1 + 1


def test_layer_returns_a_list_even_when_one_wide() -> None:
    layer = nn.Layer(2, 1, rng=0)
    out = layer([1.0, 2.0])
    assert isinstance(out, list) and len(out) == 1 and isinstance(out[0], Value)
    assert isinstance(nn.MLP(2, [1], rng=0)([1.0, 2.0]), list)


def test_neuron_is_one_dot_node_and_one_activation_node() -> None:
    neuron = nn.Neuron(16, rng=0)
    x = [Value(float(i)) for i in range(16)]
    out = neuron(x)
    interior = [v for v in topological_order(out) if v.parents]
    assert [v.op for v in interior] == ["dot", "relu"]
    linear = nn.Neuron(4, activation="linear", rng=0)([1.0, 2.0, 3.0, 4.0])
    assert linear.op == "dot"
    # Plain-number inputs are folded into the dot node: its parents are just the parameters.
    assert len(linear.parents) == 5


def test_mlp_forward_matches_hand_computation() -> None:
    model = nn.MLP(3, [4, 2], rng=7)
    x = [0.3, -1.2, 2.0]
    hidden = [relu(sum(w.data * xi for w, xi in zip(n.w, x)) + n.b.data) for n in model.layers[0].neurons]
    expected = [sum(w.data * h for w, h in zip(n.w, hidden)) + n.b.data for n in model.layers[1].neurons]
    assert [o.data for o in model(x)] == pytest.approx(expected, rel=1e-12)


@given(
    nin=st.integers(1, 3),
    sizes=st.lists(st.integers(1, 3), min_size=1, max_size=3),
    activation=st.sampled_from(["relu", "tanh", "sigmoid", "softplus", "elu", "leaky_relu", "prelu", "linear"]),
    seed=st.integers(0, 2**16),
)
def test_mlp_parameter_gradients_match_central_differences(nin, sizes, activation, seed) -> None:
    rng = random.Random(seed)
    model = nn.MLP(nin, sizes, activation=activation, bias_init=0.1, rng=seed)
    x = [rng.uniform(-2, 2) for _ in range(nin)]
    weights = [rng.uniform(-1, 1) for _ in range(sizes[-1])]

    def output() -> Value:
        return sum((w * o for w, o in zip(weights, model(x))), Value(0.0))

    # Kinks (relu at 0) have no derivative; random data avoids them almost surely.
    assert_gradients_match(output, model.parameters(), rel=1e-4, abs_=1e-6)


# --------------------------------------------------------------- activations

ACTIVATION_FORMULAS = {
    "relu": relu,
    "leaky_relu": lambda z: z if z > 0 else 0.01 * z,
    "elu": lambda z: z if z > 0 else math.exp(z) - 1.0,
    "softplus": lambda z: math.log1p(math.exp(z)),
    "sigmoid": lambda z: 1.0 / (1.0 + math.exp(-z)),
    "tanh": math.tanh,
    "hard_tanh": lambda z: min(1.0, max(-1.0, z)),
    "abs": abs,
    "linear": lambda z: z,
    "prelu": lambda z: z if z > 0 else 0.25 * z,
}


@pytest.mark.parametrize("name", sorted(ACTIVATION_FORMULAS))
@pytest.mark.parametrize("z_target", [-1.7, -0.3, 0.4, 2.5])
def test_activation_values_and_gradients(name: str, z_target: float) -> None:
    neuron = nn.Neuron(2, activation=name, rng=0)
    x = [1.0, 0.0]
    neuron.b.data = z_target - neuron.w[0].data  # makes the pre-activation exactly z_target
    z = neuron.w[0].data * x[0] + neuron.b.data
    assert neuron(x).data == pytest.approx(ACTIVATION_FORMULAS[name](z), rel=1e-12, abs=1e-15)
    assert_gradients_match(lambda: neuron(x), neuron.parameters())


def test_prelu_slope_is_learned_parameter_with_gradient_min_z_0() -> None:
    neuron = nn.Neuron(1, activation="prelu", rng=0)
    assert [name for name, _ in neuron.named_parameters()] == ["w.0", "b", "a"]
    neuron.w[0].data, neuron.b.data = 1.0, 0.0
    neuron([-3.0]).backward()
    assert neuron.a.grad == -3.0
    neuron.zero_grad()
    neuron([2.0]).backward()
    assert neuron.a.grad == 0.0
    assert neuron.a.label == "a" and neuron.a.module_path == "Neuron"


def test_maxout_takes_the_largest_affine_piece() -> None:
    unit = nn.Maxout(2, pieces=3, rng=0)
    x = [0.7, -0.4]
    pieces = [sum(w.data * xi for w, xi in zip(p.w, x)) + p.b.data for p in unit.pieces]
    assert unit(x).data == pytest.approx(max(pieces), rel=1e-12)
    assert len(unit.parameters()) == 3 * 3
    assert_gradients_match(lambda: unit(x), unit.parameters())
    assert unit(x).scope.key is unit and unit(x).parents[0].scope.label == "piece 0"


def test_rbf_unit_is_gaussian_bump_around_its_centre() -> None:
    unit = nn.RBF(2, gamma=0.5, rng=0)
    unit.w[0].data, unit.w[1].data = 1.0, -1.0
    assert unit([1.0, -1.0]).data == 1.0
    assert unit([2.0, 1.0]).data == pytest.approx(math.exp(-0.5 * (1.0 + 4.0)), rel=1e-12)
    assert_gradients_match(lambda: unit([0.3, 0.2]), unit.parameters())
    assert_gradients_match(lambda: unit([Value(0.3), Value(0.2)]), unit.parameters())


def test_layers_of_maxout_and_rbf_units() -> None:
    assert len(nn.Layer(2, 4, nn.Maxout, pieces=2, rng=0)([1.0, 2.0])) == 4
    assert len(nn.Layer(2, 4, nn.RBF, gamma=2.0, rng=0).parameters()) == 8
    with pytest.raises(TypeError, match=r"not the string 'maxout': write nn.Neuron, nn.Maxout or nn.RBF"):
        nn.Layer(2, 2, unit="maxout")
    with pytest.raises(
        TypeError, match=r"Maxout takes no option 'activation'; its options are bias_init, init, pieces"
    ):
        nn.Layer(2, 2, nn.Maxout, activation="tanh")
    with pytest.raises(TypeError, match=r"unit must make an nn\.Module"):
        nn.Layer(2, 2, lambda nin, rng: 1.0)


def test_layer_takes_a_unit_factory() -> None:
    layer = nn.Layer(3, 2, lambda nin, rng: nn.Neuron(nin, activation="tanh", rng=rng), rng=0)
    assert [type(u) for u in layer.neurons] == [nn.Neuron, nn.Neuron] and layer.neurons[0].activation == "tanh"
    assert layer.config() == {"nin": 3, "nout": 2, "unit": "Neuron", "activation": "tanh"}


# ---------------------------------------------------------------------- init


def test_init_is_seeded_and_uses_no_global_state() -> None:
    random.seed(1)
    first = [p.data for p in nn.MLP(2, [8, 1], rng=42).parameters()]
    random.seed(2)
    second = [p.data for p in nn.MLP(2, [8, 1], rng=42).parameters()]
    assert first == second
    assert first != [p.data for p in nn.MLP(2, [8, 1], rng=43).parameters()]
    state = random.getstate()
    nn.MLP(2, [8, 1], rng=5)
    assert random.getstate() == state


@pytest.mark.parametrize(
    ("scheme", "bound"),
    [("uniform", 1.0), ("he_uniform", math.sqrt(6 / 50)), ("xavier_uniform", math.sqrt(6 / (50 + 10)))],
)
def test_uniform_schemes_respect_their_bounds(scheme: str, bound: float) -> None:
    layer = nn.Layer(50, 10, init=scheme, rng=0)
    weights = [w.data for n in layer.neurons for w in n.w]
    assert all(-bound <= w <= bound for w in weights)
    assert max(map(abs, weights)) > 0.8 * bound  # the whole range is used


@pytest.mark.parametrize(("scheme", "std"), [("he_normal", math.sqrt(2 / 200)), ("normal", 1.0)])
def test_normal_schemes_have_their_spread(scheme: str, std: float) -> None:
    layer = nn.Layer(200, 20, init=scheme, rng=0)
    weights = [w.data for n in layer.neurons for w in n.w]
    sample_std = math.sqrt(sum(w * w for w in weights) / len(weights))
    assert sample_std == pytest.approx(std, rel=0.05)


def test_auto_init_picks_he_for_relu_and_xavier_for_tanh() -> None:
    assert nn_init.resolve_init("auto", "relu") is nn_init.INITS["he_uniform"]
    assert nn_init.resolve_init("auto", "tanh") is nn_init.INITS["xavier_uniform"]


def test_bias_init_and_weights_never_all_zero() -> None:
    model = nn.MLP(4, [5, 1], bias_init=0.1, rng=0)
    for layer in model.layers:
        for neuron in layer.neurons:
            assert neuron.b.data == 0.1
            assert any(w.data != 0.0 for w in neuron.w)


def test_unseeded_models_differ() -> None:
    assert [p.data for p in nn.MLP(2, [4], rng=None).parameters()] != [
        p.data for p in nn.MLP(2, [4], rng=None).parameters()
    ]


# -------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("make", "error", "message"),
    [
        (lambda: nn.MLP(2, [16, 0]), ValueError, "layer width 1 must be a whole number >= 1, got int 0"),
        (lambda: nn.MLP(2, []), ValueError, "sizes must be a non-empty list"),
        (lambda: nn.MLP(2, "16"), ValueError, "sizes must be a non-empty list"),
        (lambda: nn.MLP(0, [1]), ValueError, "nin must be a whole number >= 1"),
        (lambda: nn.MLP(2, [1], bias_init=10**400), ValueError, "bias_init must be a number that fits in a float"),
        (lambda: nn.MLP(2, [1], bias_init=math.nan), ValueError, "bias_init must be a finite number"),
        (lambda: nn.MLP(2.0, [1]), TypeError, "nin must be a whole number"),
        (lambda: nn.MLP(2, [1], activation="swish"), ValueError, "unknown activation 'swish'; choose one of relu"),
        (lambda: nn.Neuron(2, init="glorot"), ValueError, "unknown init 'glorot'"),
        (lambda: nn.Neuron(2, rng="seed"), TypeError, "rng must be an int seed"),
        (lambda: nn.Neuron(2, bias_init="0.1"), TypeError, "bias_init must be a number"),
        (lambda: nn.RBF(2, gamma=0), ValueError, "gamma must be a finite number > 0"),
        (lambda: nn.Maxout(2, pieces=0), ValueError, "pieces must be a whole number >= 1"),
    ],
)
def test_bad_construction_arguments_say_what_is_wrong(make, error, message) -> None:
    with pytest.raises(error, match=message):
        make()


def test_wrong_input_width_names_the_module() -> None:
    model = nn.MLP(2, [3, 1], rng=0)
    with pytest.raises(ValueError, match=r"MLP.layers.0.neurons.0 takes 2 inputs, got 3"):
        model([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match=r"input 1 is a str, expected a number or a Value"):
        model([1.0, "2"])
    with pytest.raises(TypeError, match=r"takes a list \(or tuple\) of numbers or Values, got a float"):
        model(1.0)
    with pytest.raises(ValueError, match=r"RBF takes 2 inputs, got 1"):
        nn.RBF(2, rng=0)([1.0])


@pytest.mark.parametrize(
    ("x", "message"),
    [
        ({0: 1.0, 1: 2.0}, "a dict's keys are not inputs"),
        ({1.0, 2.0}, r"takes a list \(or tuple\) of numbers or Values, got a set"),
        ("12", "got a str"),
        (iter([1.0, 2.0]), "got a list_iterator"),
    ],
)
def test_mappings_and_non_sequences_are_refused(x, message) -> None:
    for module in (nn.MLP(2, [1], rng=0), nn.Neuron(2, rng=0), nn.RBF(2, rng=0), nn.Layer(2, 2, nn.Maxout, rng=0)):
        with pytest.raises(TypeError, match=message):
            module(x)


def test_zero_grad_resets_parameters() -> None:
    model = nn.MLP(2, [3, 1], rng=0)
    model([1.0, 2.0])[0].backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_zero_grad_clears_differentiable_gradients_like_autograd_zero_grad() -> None:
    model = nn.MLP(2, [2, 1], rng=0)
    x = [Value(0.5), Value(-1.0)]
    model(x)[0].backward(create_graph=True)
    optimizer = nn.optim.SGD(model.parameters(), lr=0.1)
    for clear in (model.zero_grad, optimizer.zero_grad):
        model(x)[0].backward(create_graph=True)
        assert any(p.grad_value is not None for p in model.parameters())
        clear()
        assert all(p.grad == 0.0 and p.grad_value is None for p in model.parameters())


def test_modules_and_children_as_in_torch() -> None:
    model = nn.MLP(2, [2, 1], rng=0)
    assert list(model.children()) == model.layers
    assert [name for name, _ in model.named_children()] == ["layers.0", "layers.1"]
    names = [name for name, _ in model.named_modules()]
    assert names[:4] == ["", "layers.0", "layers.0.neurons.0", "layers.0.neurons.1"]
    assert len(names) == 1 + 2 + 3 and next(iter(model.modules())) is model
    assert [m.label for m in model.modules()] == ["MLP", "layer 0", "neuron 0", "neuron 1", "layer 1", "neuron 0"]
    shared = nn.Module()
    shared.first = shared.second = model.layers[1]
    assert [name for name, _ in shared.named_modules()] == ["", "first", "first.neurons.0"]


def test_state_dict_round_trip_and_strict_loading() -> None:
    source, target = nn.MLP(2, [3, 1], rng=0), nn.MLP(2, [3, 1], rng=1)
    target.load_state_dict(source.state_dict())
    assert target([0.2, 0.9])[0].data == source([0.2, 0.9])[0].data
    state = source.state_dict()
    before = target.state_dict()
    bad_cases = [
        ({k: v for k, v in state.items() if k != "layers.1.neurons.0.b"}, "missing 1 parameter"),
        ({**state, "layers.9.neurons.0.b": 1.0}, "1 unexpected parameter"),
        ({**state, "layers.0.neurons.0.b": math.nan}, "must be a finite number, got float nan"),
        ({**state, "layers.0.neurons.0.b": "1.0"}, r"must be a number \(an int or a float\), got str"),
        ({**state, "layers.0.neurons.0.b": True}, r"must be a number \(an int or a float\), got bool"),
        ({**state, "layers.0.neurons.0.b": 10**400}, "must be a number that fits in a float"),
    ]
    for bad, message in bad_cases:
        with pytest.raises(ValueError, match=message):
            target.load_state_dict(bad)
        assert target.state_dict() == before  # nothing half-loaded


def test_repr_shows_architecture() -> None:
    assert repr(nn.MLP(2, [16, 1], rng=0)) == (
        "MLP(nin=2, sizes=[16, 1], activation='relu', output_activation='linear')"
    )


def test_layering_autograd_never_imports_nn_and_nn_imports_plots_lazily() -> None:
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import sys, valuegrad.autograd; assert 'valuegrad.nn' not in sys.modules, 'autograd imported nn'; "
        "import valuegrad.nn; heavy = {'matplotlib', 'tqdm'} & set(sys.modules); assert not heavy, heavy"
    )
    repo = str(Path(__file__).resolve().parents[2])
    done = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_pickled_and_copied_models_keep_their_parameters_owners() -> None:
    """A parameter's owner lives in a side table keyed by the Value; a copy re-tags its parameters."""
    import copy
    import pickle

    model = nn.MLP(2, [2, 1], rng=0)
    owners = [p.module_path for p in model.parameters()]
    assert owners[0] == "MLP.layers.0.neurons.0"
    for twin in (pickle.loads(pickle.dumps(model)), copy.deepcopy(model)):
        assert [p.module_path for p in twin.parameters()] == owners
