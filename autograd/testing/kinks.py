"""SymPy functions for the kinked ops, with the engine's one-sided derivatives built in.

``Piecewise`` would express them, but SymPy simplifies a Piecewise's conditions through set
algebra (``as_set``, ``periodicity``), and on nested trigonometric arguments that can run for
minutes (seen on Python 3.10 while Hypothesis shrank a random expression). These functions are
opaque to SymPy: it only differentiates them (``fdiff``) and ``lambdify`` calls their float
versions, so building and compiling a twin costs the same whatever the arguments are.

Each kinked op is written with a few such functions:

* ``Step(u)`` = 1 if u > 0 else 0 (derivative 0), ``Ramp(u)`` = max(u, 0) (derivative ``Step``),
  so relu = ``Ramp``, leaky_relu(u, c) = ``Ramp(u) + c·(u − Ramp(u))``;
* ``NegExpm1(u)`` = 0 if u > 0 else eᵘ − 1, ``NegExp(u)`` = 0 if u > 0 else eᵘ (its own derivative),
  so elu(u, c) = ``Ramp(u) + c·NegExpm1(u)`` never evaluates eᵘ for a large positive u;
* ``Abs0`` (derivative ``Sign0``, 0 at 0), ``Clip1`` (hard tanh; derivative ``Inside1``, 0 at ±1),
  ``FirstMax`` (derivative ``IsFirstMax(i, ...)``: the first maximal argument takes the gradient).

The values at the kinks match the engine's (relu'(0) = 0, leaky_relu'(0) = c, elu'(0) = c,
abs'(0) = 0, hard_tanh'(±1) = 0).
"""

from __future__ import annotations

import functools
import math
from types import SimpleNamespace
from typing import Any, Callable

__all__ = ["FLOATS", "kinks"]

# name -> the float function lambdify calls for it
FLOATS: dict[str, Callable[..., float]] = {
    "Step": lambda u: 1.0 if u > 0 else 0.0,
    "Ramp": lambda u: u if u > 0 else 0.0,
    "NegExpm1": lambda u: 0.0 if u > 0 else math.expm1(u),
    "NegExp": lambda u: 0.0 if u > 0 else math.exp(u),
    "Abs0": abs,
    "Sign0": lambda u: 1.0 if u > 0 else (-1.0 if u < 0 else 0.0),
    "Clip1": lambda u: min(1.0, max(-1.0, u)),
    "Inside1": lambda u: 1.0 if -1 < u < 1 else 0.0,
    "FirstMax": lambda *xs: max(xs),
    "IsFirstMax": lambda i, *xs: 1.0 if xs.index(max(xs)) == int(i) else 0.0,
    # SymPy's own kinks appear too: it rewrites (2x²)**2.0 as 16·|x|**8.0 for real x, whose
    # derivatives bring sign and DiracDelta (zero away from the kink, where tests evaluate).
    "sign": lambda u: 1.0 if u > 0 else (-1.0 if u < 0 else 0.0),
    "DiracDelta": lambda u, *order: math.inf if u == 0 else 0.0,
    "Heaviside": lambda u, *at_zero: 1.0 if u > 0 else (0.0 if u < 0 else 0.5),
}


@functools.cache
def kinks() -> SimpleNamespace:
    """The functions as SymPy classes (built on first use, so importing this module needs no SymPy)."""
    import sympy as sp

    made: dict[str, Any] = {}

    def function(name: str, derivative: Callable[..., Any] | None) -> Any:
        def fdiff(self: Any, argindex: int = 1) -> Any:
            return sp.S.Zero if derivative is None else derivative(argindex - 1, *self.args)

        made[name] = type(name, (sp.Function,), {"fdiff": fdiff, "is_real": True})
        return made[name]

    function("Step", None)
    function("Ramp", lambda _, u: made["Step"](u))
    function("NegExp", lambda _, u: made["NegExp"](u))
    function("NegExpm1", lambda _, u: made["NegExp"](u))
    function("Sign0", None)
    function("Abs0", lambda _, u: made["Sign0"](u))
    function("Inside1", None)
    function("Clip1", lambda _, u: made["Inside1"](u))
    function("IsFirstMax", None)
    function("FirstMax", lambda i, *xs: made["IsFirstMax"](sp.Integer(i), *xs))
    ramp, neg_expm1 = made["Ramp"], made["NegExpm1"]
    return SimpleNamespace(
        relu=ramp,
        leaky_relu=lambda u, c: ramp(u) + c * (u - ramp(u)),
        elu=lambda u, c: ramp(u) + c * neg_expm1(u),
        abs=made["Abs0"],
        hard_tanh=made["Clip1"],
        max=made["FirstMax"],
    )
