"""The engine's public names in one place (kept for ``from valuegrad.autograd.engine import ...``).

The engine lives in four modules, one concern each:

* ``value``  -- ``Value`` and how op nodes are made;
* ``nary``   -- the n-ary ops ``sum``, ``dot``, ``logsumexp``, ``max``;
* ``sweep``  -- the one reverse sweep: ``backward``, ``gradients``, ``backward_steps``, ``zero_grad``;
* ``_modes`` -- ``no_grad``, ``enable_grad``, ``detect_anomaly``, ``scope`` (one ContextVar).
"""

from __future__ import annotations

# Explicit re-exports (``name as name``): this module only gathers the engine's names.
from valuegrad.autograd._modes import Scope as Scope
from valuegrad.autograd._modes import current_scope as current_scope
from valuegrad.autograd._modes import detect_anomaly as detect_anomaly
from valuegrad.autograd._modes import enable_grad as enable_grad
from valuegrad.autograd._modes import no_grad as no_grad
from valuegrad.autograd._modes import scope as scope
from valuegrad.autograd.nary import dot as dot
from valuegrad.autograd.nary import logsumexp as logsumexp
from valuegrad.autograd.nary import max as max
from valuegrad.autograd.nary import sum as sum
from valuegrad.autograd.sweep import BackwardStep as BackwardStep
from valuegrad.autograd.sweep import GraphMath as GraphMath
from valuegrad.autograd.sweep import Term as Term
from valuegrad.autograd.sweep import backward_steps as backward_steps
from valuegrad.autograd.sweep import gradients as gradients
from valuegrad.autograd.sweep import local_derivatives as local_derivatives
from valuegrad.autograd.sweep import topological_order as topological_order
from valuegrad.autograd.sweep import zero_grad as zero_grad
from valuegrad.autograd.value import Value as Value
