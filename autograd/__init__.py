"""valuegrad's engine: scalar reverse-mode automatic differentiation.

>>> from valuegrad.autograd import Value
>>> x = Value(3.0)
>>> y = x * x * x
>>> y.backward()
>>> x.grad
27.0
"""

from typing import TYPE_CHECKING, Any

from .core import (
    BackwardStep,
    Scope,
    Term,
    Value,
    backward_steps,
    current_scope,
    detect_anomaly,
    dot,
    enable_grad,
    gradients,
    hypot,
    local_derivatives,
    logsumexp,
    max,  # noqa: F401 - public as autograd.max, not star-exported
    no_grad,
    scope,
    sum,  # noqa: F401 - public as autograd.sum, not star-exported
    topological_order,
    zero_grad,
)

if TYPE_CHECKING:
    from .compiler.compiled import CompileError, jit
    from .functional import grad, hessian, jacobian, value_and_grad
    from .gradient_check import GradcheckError, gradcheck
    from .viz.draw import Graph, draw
    from .viz.player import draw_backward

# The transforms, drawing (graphviz, subprocess), gradient checking and the jit load on first
# use: `import valuegrad.autograd` stays a few milliseconds, most of a short script's start-up.
_LAZY = {
    "grad": ".functional",
    "hessian": ".functional",
    "jacobian": ".functional",
    "value_and_grad": ".functional",
    "CompileError": ".compiler.compiled",
    "jit": ".compiler.compiled",
    "Graph": ".viz.draw",
    "draw": ".viz.draw",
    "draw_backward": ".viz.player",
    "GradcheckError": ".gradient_check",
    "gradcheck": ".gradient_check",
}


# Where modules moved in 0.3.0 (CHANGELOG.md): the old paths, which pickles and older code name,
# resolve to the new modules. No file stands at an old path; a finder answers for them.
_MOVED = {
    "engine": "core",
    "value": "core.value",
    "ops": "core.ops",
    "sweep": "core.sweep",
    "nary": "core.nary",
    "compiled": "compiler.compiled",
    "drawing": "viz.draw",
    "player": "viz.player",
}


class _MovedModules:
    """A meta path finder: ``valuegrad.autograd.<old>`` is the module now at ``_MOVED[<old>]``."""

    def __init__(self) -> None:
        self._specs: dict[str, Any] = {}  # old name -> the real module's own spec, while importing

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> Any:
        package, _, old = fullname.rpartition(".")
        if package != __name__ or old not in _MOVED:
            return None
        from importlib.machinery import ModuleSpec

        return ModuleSpec(fullname, self)  # type: ignore[arg-type]  # a Loader by its two methods

    def create_module(self, spec: Any) -> Any:
        import importlib

        module = importlib.import_module("." + _MOVED[spec.name.rpartition(".")[2]], __name__)
        self._specs[spec.name] = module.__spec__
        return module

    def exec_module(self, module: Any) -> None:
        """Executed already under its new name; give back the spec the import system replaced."""
        module.__spec__ = self._specs.pop(module.__spec__.name)


import sys as _sys  # noqa: E402

if not any(isinstance(finder, _MovedModules) for finder in _sys.meta_path):
    _sys.meta_path.append(_MovedModules())


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'valuegrad.autograd' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])


# autograd.sum and autograd.max stay out of __all__: a star import must not shadow the builtins.
__all__ = [
    "BackwardStep",
    "CompileError",
    "GradcheckError",
    "Graph",
    "Scope",
    "Term",
    "Value",
    "backward_steps",
    "current_scope",
    "detect_anomaly",
    "dot",
    "draw",
    "draw_backward",
    "enable_grad",
    "grad",
    "gradcheck",
    "gradients",
    "hessian",
    "hypot",
    "jacobian",
    "jit",
    "local_derivatives",
    "logsumexp",
    "no_grad",
    "scope",
    "topological_order",
    "value_and_grad",
    "zero_grad",
]
from .. import __version__ as __version__  # noqa: E402 - one source for the version
