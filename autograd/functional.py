"""Function transforms in the style of HIPS autograd and JAX: ``grad``, ``value_and_grad``, ``hessian``, ``jacobian``.

They take a Python function of scalars and return a function. Nesting works by
levels, as in autodidact's trace ids: each call of a transform opens the next level
and gives ``f`` fresh nodes for the arguments it differentiates, so

* at the outermost level (no enclosing transform) the answers are plain floats,
  always, whatever ``f`` builds or captures;
* inside an enclosing transform the answers are ``Value``s that stay differentiable
  with respect to that transform's variables: ``grad(lambda x: x * grad(lambda y: x * y)(3.0))(2.0)``
  is 4.0 because the inner gradient ``x`` is still a node of the outer graph;
* a Value captured from outside every transform is a constant: only the fresh
  argument nodes are differentiated, and a closure's other uses of the same Value
  do not leak in (no perturbation confusion).

Deciding float or Value costs O(1) per call (the level), never a scan of the graph.
Transforms record regardless of an enclosing ``no_grad``, as JAX's do. A ``jit`` trace is a
level too, as its eager meaning is ``value_and_grad``: a transform inside a compiled function
answers in Values, which the trace records and the replay recomputes.
"""

from __future__ import annotations

import functools
import numbers
from typing import Any, Callable, Sequence, Union

from .core import Value, checks
from .core.modes import transform_level
from .core.sweep import gradients

__all__ = ["grad", "hessian", "jacobian", "value_and_grad"]

Argnums = Union[int, Sequence[int]]


def _variable(x: object, i: int, where: str) -> Value:
    """A fresh node for argument ``i``: a leaf for a number; for a Value, a node whose only parent it is.

    The fresh node is what gets differentiated, so an enclosing transform still sees the path
    to its own variable, and other uses of that Value inside ``f`` are not counted.
    """
    if isinstance(x, Value):
        return x * 1.0  # a MUL_CONST node, its number x's own (read by the engine, so unguarded in a jit trace)
    return Value(checks.real(x, f"argument {i}", where, finite=False))


def _output(out: object, where: str) -> Value:
    """``f``'s result as a Value; a number means ``f`` ignored its inputs (gradient 0)."""
    if isinstance(out, Value):
        return out
    if isinstance(out, bool) or not isinstance(out, numbers.Real):
        raise TypeError(f"{where}: the function must return a scalar (a Value or a number), got {checks.describe(out)}")
    return Value(float(out))


def _call(
    f: Callable[..., Any], argnums: tuple[int, ...], args: tuple[Any, ...], where: str
) -> tuple[Value, list[Value]]:
    """Call ``f`` with fresh variable nodes for the chosen arguments; return its output and those nodes."""
    chosen = checks.chosen_argnums(argnums, len(args), where)
    call_args = list(args)
    for i, a in enumerate(args):
        if i in chosen:
            call_args[i] = _variable(a, i, where)
        elif isinstance(a, (int, float)) and not isinstance(a, bool):
            call_args[i] = Value(a)  # so f can call .sin() on any numeric argument
    out = _output(f(*call_args), where)
    return out, [call_args[i] for i in chosen]


def _answer(x: Any, nested: bool) -> Any:
    """A float at the outermost level, a Value (differentiable by the enclosing transform) inside one."""
    if nested:
        return x if isinstance(x, Value) else Value(x)
    return x.data if isinstance(x, Value) else float(x)


def _shaped(items: Sequence[Any], argnums: object) -> Any:
    return items[0] if not isinstance(argnums, (tuple, list)) else tuple(items)


def value_and_grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., tuple[Any, Any]]:
    """``f``'s value and its gradient with respect to the argument(s) ``argnums``.

    >>> value_and_grad(lambda x, y: x * y, argnums=(0, 1))(3.0, 4.0)
    (12.0, (4.0, 3.0))
    """
    return _value_and_grad(f, argnums, "value_and_grad")


def _value_and_grad(f: Callable[..., Any], argnums: Argnums, where: str) -> Callable[..., tuple[Any, Any]]:
    checks.function(f, "f", where)
    nums = checks.argnums(argnums, where)

    @functools.wraps(f)
    def wrapped(*args: Any) -> tuple[Any, Any]:
        with transform_level(where, traceable=True) as level:
            nested = level > 1
            out, variables = _call(f, nums, args, where)
            grads = gradients(out, variables, create_graph=nested)
            return _answer(out, nested), _shaped([_answer(g, nested) for g in grads], argnums)

    return wrapped


def grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """The derivative of scalar ``f`` with respect to argument ``argnums`` (an int or a tuple).

    >>> import math
    >>> d3 = grad(grad(grad(lambda x: x.tanh())))
    >>> t = math.tanh(0.5)
    >>> abs(d3(0.5) - (-2 + 8 * t**2 - 6 * t**4)) < 1e-12
    True
    """
    both = _value_and_grad(f, argnums, "grad")

    @functools.wraps(f)
    def wrapped(*args: Any) -> Any:
        return both(*args)[1]

    return wrapped


def jacobian(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """d f_i / d x_j for a function with several outputs (a list or tuple of scalars).

    One row per output, each shaped as ``grad``'s answer (a number for an int ``argnums``,
    a tuple for a tuple). A scalar output gives ``grad``'s answer itself.

    >>> jacobian(lambda x, y: [x * y, x + y], argnums=(0, 1))(2.0, 3.0)
    [(3.0, 2.0), (1.0, 1.0)]
    """
    where = "jacobian"
    checks.function(f, "f", where)
    nums = checks.argnums(argnums, where)

    @functools.wraps(f)
    def wrapped(*args: Any) -> Any:
        with transform_level(where, traceable=True) as level:
            nested = level > 1
            chosen = checks.chosen_argnums(nums, len(args), where)
            variables = [_variable(args[i], i, where) for i in chosen]
            call_args = list(args)
            for i, v in zip(chosen, variables):
                call_args[i] = v
            result = f(*call_args)
            if not isinstance(result, (list, tuple)):
                row = gradients(_output(result, where), variables, create_graph=nested)
                return _shaped([_answer(g, nested) for g in row], argnums)
            rows = []
            for out in result:
                row = gradients(_output(out, where), variables, create_graph=nested)
                rows.append(_shaped([_answer(g, nested) for g in row], argnums))
            return rows

    return wrapped


def hessian(f: Callable[..., Any], argnums: Argnums | None = None) -> Callable[..., Any]:
    """The matrix of second derivatives of scalar ``f`` in the arguments ``argnums`` (default: all).

    A list of lists; plain floats at the outermost level, as ``grad``.

    >>> hessian(lambda x, y: x * x * y)(1.0, 2.0)
    [[4.0, 2.0], [2.0, 0.0]]
    >>> hessian(lambda x, y: x * x * y, argnums=1)(1.0, 2.0)
    [[0.0]]
    """
    where = "hessian"
    checks.function(f, "f", where)
    nums = None if argnums is None else checks.argnums(argnums, where)

    @functools.wraps(f)
    def wrapped(*args: Any) -> list[list[Any]]:
        with transform_level(where, traceable=True) as level:
            nested = level > 1
            out, variables = _call(f, tuple(range(len(args))) if nums is None else nums, args, where)
            first = gradients(out, variables, create_graph=True)
            return [[_answer(h, nested) for h in gradients(d, variables, create_graph=nested)] for d in first]

    return wrapped
