"""valuegrad's engine: scalar reverse-mode automatic differentiation.

>>> from valuegrad.autograd import Value
>>> x = Value(3.0)
>>> y = x * x * x
>>> y.backward()
>>> x.grad
27.0
"""

from typing import TYPE_CHECKING, Any

from valuegrad.autograd.engine import (
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
    from valuegrad.autograd.compiled import CompileError, jit
    from valuegrad.autograd.drawing import Graph, draw
    from valuegrad.autograd.functional import grad, hessian, jacobian, value_and_grad
    from valuegrad.autograd.gradient_check import GradcheckError, gradcheck
    from valuegrad.autograd.player import draw_backward

# The transforms, drawing (graphviz, subprocess), gradient checking and the jit load on first
# use: `import valuegrad.autograd` stays a few milliseconds, most of a short script's start-up.
_LAZY = {
    "grad": "valuegrad.autograd.functional",
    "hessian": "valuegrad.autograd.functional",
    "jacobian": "valuegrad.autograd.functional",
    "value_and_grad": "valuegrad.autograd.functional",
    "CompileError": "valuegrad.autograd.compiled",
    "jit": "valuegrad.autograd.compiled",
    "Graph": "valuegrad.autograd.drawing",
    "draw": "valuegrad.autograd.drawing",
    "draw_backward": "valuegrad.autograd.player",
    "GradcheckError": "valuegrad.autograd.gradient_check",
    "gradcheck": "valuegrad.autograd.gradient_check",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'valuegrad.autograd' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
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
from valuegrad import __version__ as __version__  # noqa: E402 - one source for the version
