"""What 0.2 code and pickles name still works in 0.3 (CHANGELOG.md says what moved)."""

from __future__ import annotations

import importlib
import pickle
import subprocess
import sys

import pytest

from valuegrad import autograd
from valuegrad.autograd import Value

OLD_PATHS = {
    "valuegrad.autograd.engine": "valuegrad.autograd.core",
    "valuegrad.autograd.value": "valuegrad.autograd.core.value",
    "valuegrad.autograd.ops": "valuegrad.autograd.core.ops",
    "valuegrad.autograd.sweep": "valuegrad.autograd.core.sweep",
    "valuegrad.autograd.nary": "valuegrad.autograd.core.nary",
    "valuegrad.autograd.compiled": "valuegrad.autograd.compiler.compiled",
    "valuegrad.autograd.drawing": "valuegrad.autograd.viz.draw",
    "valuegrad.autograd.player": "valuegrad.autograd.viz.player",
}


@pytest.mark.parametrize(("old", "new"), sorted(OLD_PATHS.items()))
def test_an_old_module_path_is_the_moved_module(old: str, new: str) -> None:
    moved = importlib.import_module(old)
    assert moved is importlib.import_module(new)
    assert moved.__spec__ is not None and moved.__spec__.name == new  # the module keeps its own spec


def test_a_pickle_that_names_the_old_paths_loads() -> None:
    """0.2 wrote ``valuegrad.autograd.value Value`` (and ops by ``valuegrad.autograd.ops``) into pickles."""
    w = Value(2.5, label="w")
    data = pickle.dumps(w, protocol=2)
    assert b"valuegrad.autograd.core.value\nValue" in data
    old = data.replace(b"valuegrad.autograd.core.value\n", b"valuegrad.autograd.value\n")
    loaded = pickle.loads(old)
    assert isinstance(loaded, Value) and loaded.data == 2.5 and loaded.label == "w"


def test_every_public_name_still_imports() -> None:
    names = "BackwardStep CompileError GradcheckError Graph Scope Term Value backward_steps current_scope"
    names += " detect_anomaly dot draw draw_backward enable_grad grad gradcheck gradients hessian jacobian jit"
    names += " local_derivatives logsumexp no_grad scope topological_order value_and_grad zero_grad sum max hypot"
    for name in names.split():
        assert getattr(autograd, name) is not None, name
    assert callable(autograd.jit) and not isinstance(autograd.jit, type(autograd))  # the function, not a module


def test_the_function_jit_survives_importing_the_compiler() -> None:
    code = (
        "import valuegrad.autograd.compiler.compiled, valuegrad.autograd as a, types;"
        "assert isinstance(a.jit, types.FunctionType), a.jit"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
