"""The engine's public names in one place (kept for ``from valuegrad.autograd.engine import ...``).

The engine lives in four modules, one concern each:

* ``value``  -- ``Value`` and how op nodes are made;
* ``nary``   -- the n-ary ops ``sum``, ``dot``, ``logsumexp``, ``max``;
* ``sweep``  -- the one reverse sweep: ``backward``, ``gradients``, ``backward_steps``, ``zero_grad``;
* ``_modes`` -- ``no_grad``, ``enable_grad``, ``detect_anomaly``, ``scope`` (one ContextVar).
"""

from __future__ import annotations

from valuegrad.autograd._modes import Scope, current_scope, detect_anomaly, enable_grad, no_grad, scope
from valuegrad.autograd.nary import dot, logsumexp, max, sum
from valuegrad.autograd.sweep import (
    BackwardStep,
    GraphMath,
    Term,
    backward_steps,
    gradients,
    local_derivatives,
    topological_order,
    zero_grad,
)
from valuegrad.autograd.value import Value

__all__ = [
    "BackwardStep",
    "GraphMath",
    "Scope",
    "Term",
    "Value",
    "backward_steps",
    "current_scope",
    "detect_anomaly",
    "dot",
    "enable_grad",
    "gradients",
    "local_derivatives",
    "logsumexp",
    "max",
    "no_grad",
    "scope",
    "sum",
    "topological_order",
    "zero_grad",
]
