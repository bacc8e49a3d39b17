"""The engine: ``Value``, the op table, the one reverse sweep, n-ary ops, modes and scopes.

* ``value``  -- ``Value``, how op nodes are made, and ``hypot`` (a binary function);
* ``ops``    -- the op table: one row per op, its rule written once;
* ``nary``   -- the n-ary ops ``sum``, ``dot``, ``logsumexp``, ``max``;
* ``sweep``  -- the one reverse sweep: ``backward``, ``gradients``, ``backward_steps``, ``zero_grad``;
* ``modes``  -- ``no_grad``, ``enable_grad``, ``detect_anomaly``, ``scope`` (one ContextVar);
* ``ieee``   -- IEEE-754-safe float helpers;
* ``checks``, ``files`` -- argument checks and atomic files, shared with ``nn``.

This package imports nothing above it. Its public names are gathered here.
"""

from __future__ import annotations

# Explicit re-exports (``name as name``): this module only gathers the engine's names.
from .modes import Scope as Scope
from .modes import current_scope as current_scope
from .modes import detect_anomaly as detect_anomaly
from .modes import enable_grad as enable_grad
from .modes import no_grad as no_grad
from .modes import scope as scope
from .nary import dot as dot
from .nary import logsumexp as logsumexp
from .nary import max as max
from .nary import sum as sum
from .sweep import BackwardStep as BackwardStep
from .sweep import GraphMath as GraphMath
from .sweep import Term as Term
from .sweep import backward_steps as backward_steps
from .sweep import gradients as gradients
from .sweep import local_derivatives as local_derivatives
from .sweep import topological_order as topological_order
from .sweep import zero_grad as zero_grad
from .value import Value as Value
from .value import hypot as hypot
