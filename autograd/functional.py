"""Function transforms in the style of HIPS autograd and JAX: ``grad``, ``value_and_grad``, ``hessian``.

They take a Python function of scalars and return a function. Plain-number
arguments give plain-float answers. When the result also depends on ``Value``s made
outside the call -- an outer ``grad``'s argument, or parameters the function closes
over -- the answer is a ``Value`` that stays differentiable with respect to them,
which is what lets ``grad(grad(f))`` nest to any order.
"""

from __future__ import annotations

import functools
import numbers
from typing import Any, Callable, Sequence, Union

from valuegrad.autograd.engine import Value, enable_grad, gradients, topological_order

Argnums = Union[int, Sequence[int]]


def _check_argnums(argnums: Argnums, nargs: int) -> tuple[int, ...]:
    wanted = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in wanted:
        if not isinstance(i, int) or not -nargs <= i < nargs:
            raise ValueError(f"argnums {argnums!r} does not fit a call with {nargs} positional arguments")
    return tuple(i % nargs for i in wanted)


@enable_grad()  # transforms record regardless of an enclosing no_grad, as JAX's do
def _evaluate(f: Callable[..., Any], argnums: Argnums, args: tuple[Any, ...]) -> tuple[Any, list[Any]]:
    """Call f with the chosen arguments as graph nodes; return its output and the gradients."""
    chosen = _check_argnums(argnums, len(args))
    # Numbers become leaf Values (the others too, so f can call .sin() on any argument).
    call_args = [Value(a) if isinstance(a, numbers.Real) and not isinstance(a, bool) else a for a in args]  # type: ignore[arg-type]
    made_here = {id(call_args[i]) for i in range(len(args)) if call_args[i] is not args[i]}
    out = f(*call_args)
    if not isinstance(out, Value):
        try:
            out = Value(out)  # a function that ignores its input: gradient 0
            made_here.add(id(out))
        except TypeError:
            what = type(out).__name__
            raise TypeError(f"grad: the function must return a scalar (Value or number), got {what}") from None
    # If the result depends on any Value made outside this call (an outer grad's input, a
    # captured parameter), the gradient must stay a differentiable Value: that is what makes
    # grad(lambda x: x * grad(lambda y: x * y)(3.0)) see the inner result's dependence on x.
    nested = any(not node.parents and id(node) not in made_here for node in topological_order(out))
    grads = gradients(out, [call_args[i] for i in chosen], create_graph=nested)
    if not nested:
        return out.data, [float(g) for g in grads]
    return out, grads


def value_and_grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., tuple[Any, Any]]:
    """``f``'s value and its gradient with respect to the argument(s) ``argnums``.

    >>> value_and_grad(lambda x, y: x * y, argnums=(0, 1))(3.0, 4.0)
    (12.0, (4.0, 3.0))
    """

    @functools.wraps(f)
    def wrapped(*args: Any) -> tuple[Any, Any]:
        value, grads = _evaluate(f, argnums, args)
        return value, (grads[0] if isinstance(argnums, int) else tuple(grads))

    return wrapped


def grad(f: Callable[..., Any], argnums: Argnums = 0) -> Callable[..., Any]:
    """The derivative of scalar ``f`` with respect to argument ``argnums`` (an int or a tuple).

    >>> import math
    >>> d3 = grad(grad(grad(lambda x: x.tanh())))
    >>> t = math.tanh(0.5)
    >>> abs(d3(0.5) - (-2 + 8 * t**2 - 6 * t**4)) < 1e-12
    True
    """

    @functools.wraps(f)
    def wrapped(*args: Any) -> Any:
        return value_and_grad(f, argnums)(*args)[1]

    return wrapped


def hessian(f: Callable[..., Any]) -> Callable[..., list[list[float]]]:
    """The matrix of second derivatives of scalar ``f`` in all its arguments, as a list of lists.

    >>> hessian(lambda x, y: x * x * y)(1.0, 2.0)
    [[4.0, 2.0], [2.0, 0.0]]
    """

    @functools.wraps(f)
    @enable_grad()
    def wrapped(*args: Any) -> list[list[float]]:
        xs = [Value(a) for a in args]
        out = f(*xs)
        if not isinstance(out, Value):
            return [[0.0] * len(xs) for _ in xs]
        first = gradients(out, xs, create_graph=True)
        return [[float(g) for g in gradients(d, xs)] for d in first]

    return wrapped
