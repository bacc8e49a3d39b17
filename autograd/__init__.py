"""valuegrad's engine: scalar reverse-mode automatic differentiation.

>>> from valuegrad.autograd import Value
>>> x = Value(3.0)
>>> y = x * x * x
>>> y.backward()
>>> x.grad
27.0
"""

from valuegrad.autograd.compiled import CompileError, jit
from valuegrad.autograd.drawing import Graph, draw, draw_backward
from valuegrad.autograd.engine import (
    Scope,
    Value,
    current_scope,
    detect_anomaly,
    dot,
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
from valuegrad.autograd.functional import grad, hessian, value_and_grad
from valuegrad.autograd.gradient_check import GradcheckError, gradcheck

# autograd.sum and autograd.max stay out of __all__: a star import must not shadow the builtins.
__all__ = [
    "CompileError",
    "GradcheckError",
    "Graph",
    "Scope",
    "Value",
    "current_scope",
    "detect_anomaly",
    "dot",
    "draw",
    "draw_backward",
    "grad",
    "gradcheck",
    "gradients",
    "hessian",
    "jit",
    "local_derivatives",
    "logsumexp",
    "no_grad",
    "scope",
    "topological_order",
    "value_and_grad",
    "zero_grad",
]
__version__ = "0.1.0"
