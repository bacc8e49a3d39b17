"""``Value``: a scalar node in a computation graph, and reverse-mode differentiation over it.

A node keeps its parents (in argument order), the row of the op table that made it
(``ops.py``) and that row's constant context. The derivative rule lives in the
table, not in a per-node closure: a node never refers to itself, so a dropped graph
is freed by reference counting alone and Python's cycle collector has nothing to do.

``backward()`` orders the graph with an iterative depth-first search (no recursion,
so a graph a million nodes deep works at the default recursion limit), then walks
it in reverse, adding ``node_adjoint * ∂node/∂parent`` into each parent's adjoint:
ā = Σ_b b̄ · ∂b/∂a, the fan-out rule.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import gc
import inspect
import math
import numbers
import os
import traceback
from typing import Any, Callable, Generator, Iterable, Iterator, Sequence, TypeVar, Union

from valuegrad.autograd import _checks as checks
from valuegrad.autograd import _ieee, ops
from valuegrad.autograd.ops import FloatMath, Op

__all__ = [
    "Scope",
    "Value",
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

Number = Union[int, float]
Operand = Union["Value", int, float]
_F = TypeVar("_F", bound=Callable[..., Any])

# One context variable holds both modes, so making a node costs a single lookup.
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_NO_GRAD = 1
_ANOMALY = 2
_MODE: contextvars.ContextVar[int] = contextvars.ContextVar("valuegrad_mode", default=0)


class Scope:
    """A named region of a computation (an RNN time step, an ``nn`` module's call).

    Every node made while the scope is open carries it (``Value.scope``); drawings cluster
    and collapse by it. ``key`` says which entries are the same region: two calls of one
    module share their module as key, so a drawing can merge them or tell them apart.
    The engine only stamps scopes; what they mean is up to the reader.
    """

    __slots__ = ("key", "label", "parent")

    def __init__(self, label: str, parent: Scope | None = None, key: object = None) -> None:
        if not isinstance(label, str):
            raise TypeError(f"scope label must be a str, got {type(label).__name__}")
        self.label = label
        self.parent = parent
        self.key = key

    def path(self) -> tuple[Scope, ...]:
        """This scope and its enclosing ones, outermost first."""
        chain: list[Scope] = []
        node: Scope | None = self
        while node is not None:
            chain.append(node)
            node = node.parent
        return tuple(reversed(chain))

    def __repr__(self) -> str:
        return f"Scope({' / '.join(s.label for s in self.path())!r})"


_SCOPE: contextvars.ContextVar[Scope | None] = contextvars.ContextVar("valuegrad_scope", default=None)


def current_scope() -> Scope | None:
    """The innermost open scope, or None."""
    return _SCOPE.get()


@contextlib.contextmanager
def scope(label: str, *, key: object = None) -> Iterator[Scope]:
    """Tag every node made inside with a new scope named ``label`` (nested in any open one).

    >>> from valuegrad.autograd import Value, scope
    >>> h = Value(0.5)
    >>> with scope("t = 1"):
    ...     h = (h * 2.0).tanh()
    >>> h.scope.label
    't = 1'
    """
    opened = Scope(label, _SCOPE.get(), key)
    token = _SCOPE.set(opened)
    try:
        yield opened
    finally:
        _SCOPE.reset(token)


def _constant(x: object) -> float | None:
    """A plain number as a float, or None if ``x`` is not one (bools are not numbers here)."""
    if x.__class__ is float:
        return x  # type: ignore[return-value]
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        try:
            return float(x)
        except OverflowError:  # an int too large for a double
            return math.inf if x > 0 else -math.inf  # type: ignore[operator]
    return None


class Value:
    """A scalar that remembers how it was computed.

    >>> a, b = Value(2.0), Value(-3.0)
    >>> c = a * b + a
    >>> c.backward()
    >>> c.data, a.grad, b.grad
    (-4.0, -2.0, 2.0)
    """

    __slots__ = ("__weakref__", "_ctx", "_extra", "_module", "_op", "_parents", "_scope", "data", "grad", "label")

    data: float
    grad: float
    label: str | None
    _parents: tuple[Value, ...]
    _op: Op | None
    _ctx: Any
    _module: str | None  # dotted path of the nn module that made this value; read by drawing
    _scope: Scope | None  # the innermost scope open when this value was made
    _extra: dict[str, Any] | None  # rarely used: hooks, anomaly trace, differentiable grad

    def __init__(self, data: Number, label: str | None = None) -> None:
        value = _constant(data)
        if value is None:
            if isinstance(data, Value):
                hint = "it is already a Value: use it directly, or Value(v.data) for a detached copy"
            elif isinstance(data, bool):
                hint = "booleans are not numbers here: write Value(1.0) or Value(0.0)"
            elif isinstance(data, complex):
                hint = "valuegrad differentiates real scalars only"
            elif isinstance(data, str):
                hint = "convert text first, e.g. Value(float(text))"
            else:
                hint = "pass an int or a float"
            raise TypeError(f"Value() takes a real number, got {type(data).__name__} {data!r}: {hint}")
        if label is not None and not isinstance(label, str):
            raise TypeError(f"Value label must be a str or None, got {type(label).__name__}")
        self.data = value
        self.grad = 0.0
        self.label = label
        self._parents = ()
        self._op = None
        self._ctx = None
        self._module = None
        self._scope = _SCOPE.get()
        self._extra = None
        if _MODE.get() & _ANOMALY:
            self._remember_creation()

    # ----------------------------------------------------------------- basics

    @property
    def parents(self) -> tuple[Value, ...]:
        """The inputs of the op that made this value, in argument order (``a + a`` has ``(a, a)``)."""
        return self._parents

    @property
    def op(self) -> str | None:
        """The op's name (``'add'``, ``'tanh'``, ...), or None for a leaf."""
        return None if self._op is None else self._op.name

    @property
    def op_symbol(self) -> str | None:
        """How drawings show the op, with any folded constant: ``'*'``, ``'+ 2'``, ``'leaky_relu(0.01)'``."""
        op = self._op
        if op is None:
            return None
        c = self._ctx
        if c is None or op is ops.DOT:
            return op.symbol
        if op in (ops.LEAKY, ops.ELU):
            return f"{op.symbol}({c:g})"
        if op in (ops.RSUB, ops.RDIV, ops.RPOW):
            return f"{c:g} {op.symbol}"
        if op is ops.ADD_CONST and c < 0:  # x - 1 is folded as x + (-1); show it as written
            return f"- {-c:g}"
        return f"{op.symbol} {c:g}"

    @property
    def constant(self) -> Any:
        """The op's folded constant context (``2.0`` in ``x * 2.0``), or None."""
        return self._ctx

    @property
    def scope(self) -> Scope | None:
        """The innermost ``scope(...)`` open when this value was made, or None."""
        return self._scope

    @property
    def module_path(self) -> str | None:
        """Dotted path of the ``nn`` module that made this value (``'MLP.layers.0.neurons.3'``), if any."""
        return self._module

    @module_path.setter
    def module_path(self, path: str | None) -> None:
        self._module = path

    @property
    def grad_value(self) -> Value | None:
        """The differentiable gradient left by ``backward(create_graph=True)``; ``.grad`` holds its float."""
        return None if self._extra is None else self._extra.get("grad_value")

    def __repr__(self) -> str:
        name = f", label={self.label!r}" if self.label is not None else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{name})"

    def __float__(self) -> float:
        return self.data

    # Identity semantics for == and hash (nodes go in sets and dicts); order compares data.
    __hash__ = object.__hash__

    def __lt__(self, other: Operand) -> bool:
        o = _data_of(other)
        return NotImplemented if o is None else self.data < o

    def __le__(self, other: Operand) -> bool:
        o = _data_of(other)
        return NotImplemented if o is None else self.data <= o

    def __gt__(self, other: Operand) -> bool:
        o = _data_of(other)
        return NotImplemented if o is None else self.data > o

    def __ge__(self, other: Operand) -> bool:
        o = _data_of(other)
        return NotImplemented if o is None else self.data >= o

    # ------------------------------------------------------------ arithmetic
    # These apply their row's forward inline (``+`` is ADD's forward, ``_ieee.div`` is DIV's):
    # they are the hottest calls in the engine, and a call through ``op.forward`` costs more
    # than the arithmetic. A number on either side is folded into the node as its constant.

    def __add__(self, other: Operand) -> Value:
        if other.__class__ is Value:
            return _node(self.data + other.data, (self, other), ops.ADD, None)  # type: ignore[union-attr]
        c = _constant(other)
        return NotImplemented if c is None else _node(self.data + c, (self,), ops.ADD_CONST, c)

    def __radd__(self, other: Number) -> Value:
        c = _constant(other)
        return NotImplemented if c is None else _node(c + self.data, (self,), ops.ADD_CONST, c)

    def __sub__(self, other: Operand) -> Value:
        if other.__class__ is Value:
            return _node(self.data - other.data, (self, other), ops.SUB, None)  # type: ignore[union-attr]
        c = _constant(other)
        return NotImplemented if c is None else _node(self.data - c, (self,), ops.ADD_CONST, -c)

    def __rsub__(self, other: Number) -> Value:
        c = _constant(other)
        return NotImplemented if c is None else _node(c - self.data, (self,), ops.RSUB, c)

    def __mul__(self, other: Operand) -> Value:
        if other.__class__ is Value:
            return _node(self.data * other.data, (self, other), ops.MUL, None)  # type: ignore[union-attr]
        c = _constant(other)
        return NotImplemented if c is None else _node(self.data * c, (self,), ops.MUL_CONST, c)

    def __rmul__(self, other: Number) -> Value:
        c = _constant(other)
        return NotImplemented if c is None else _node(c * self.data, (self,), ops.MUL_CONST, c)

    def __truediv__(self, other: Operand) -> Value:
        if other.__class__ is Value:
            return _node(_ieee.div(self.data, other.data), (self, other), ops.DIV, None)  # type: ignore[union-attr]
        c = _constant(other)
        return NotImplemented if c is None else _node(_ieee.div(self.data, c), (self,), ops.DIV_CONST, c)

    def __rtruediv__(self, other: Number) -> Value:
        c = _constant(other)
        return NotImplemented if c is None else _node(_ieee.div(c, self.data), (self,), ops.RDIV, c)

    def __pow__(self, other: Operand) -> Value:
        if other.__class__ is Value:
            return _node(_ieee.pow(self.data, other.data), (self, other), ops.POW, None)  # type: ignore[union-attr]
        c = _constant(other)
        return NotImplemented if c is None else _node(_ieee.pow(self.data, c), (self,), ops.POW_CONST, c)

    def __rpow__(self, other: Number) -> Value:
        c = _constant(other)
        return NotImplemented if c is None else _node(_ieee.pow(c, self.data), (self,), ops.RPOW, c)

    def __neg__(self) -> Value:
        return _node(-self.data, (self,), ops.NEG, None)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _unary(self, ops.ABS)

    # --------------------------------------------------------------- functions

    def abs(self) -> Value:
        return _unary(self, ops.ABS)

    def exp(self) -> Value:
        return _unary(self, ops.EXP)

    def log(self) -> Value:
        """Natural log; log(0) = -inf and log(x < 0) = nan, as in IEEE 754."""
        return _unary(self, ops.LOG)

    def sqrt(self) -> Value:
        return _unary(self, ops.SQRT)

    def sin(self) -> Value:
        return _unary(self, ops.SIN)

    def cos(self) -> Value:
        return _unary(self, ops.COS)

    def tanh(self) -> Value:
        return _unary(self, ops.TANH)

    def sigmoid(self) -> Value:
        """1 / (1 + e^-x), computed without overflow for any x."""
        return _unary(self, ops.SIGMOID)

    def relu(self) -> Value:
        """max(x, 0); relu'(0) = 0."""
        return _unary(self, ops.RELU)

    def leaky_relu(self, alpha: float = 0.01) -> Value:
        """x if x > 0 else alpha * x; the slope at 0 is alpha."""
        return _unary(self, ops.LEAKY, _alpha(alpha))

    def elu(self, alpha: float = 1.0) -> Value:
        """x if x > 0 else alpha * (e^x - 1); the slope at 0 is alpha."""
        return _unary(self, ops.ELU, _alpha(alpha))

    def softplus(self) -> Value:
        """log(1 + e^x), stable for large |x|."""
        return _unary(self, ops.SOFTPLUS)

    def hard_tanh(self) -> Value:
        """Clamp to [-1, 1]; the slope at ±1 is 0."""
        return _unary(self, ops.HARD_TANH)

    # ---------------------------------------------------------------- autodiff

    def backward(self, grad: Number = 1.0, create_graph: bool = False) -> None:
        """Add d(self)/d(node) * grad into ``.grad`` of every node this value depends on.

        Gradients accumulate (PyTorch semantics): a second call adds the same amounts
        again; reset with ``zero_grad``. With ``create_graph=True`` the gradient is
        also built as a graph of ``Value``s (see ``grad_value``), for higher order.
        As in PyTorch, that ties each input to a gradient graph that refers back to
        it (a reference cycle, freed only by the cycle collector): for higher order
        prefer ``gradients(..., create_graph=True)``, which leaves nothing behind.
        """
        seed = _constant(grad)
        if seed is None:
            raise TypeError(f"backward(grad=...) takes a number, got {type(grad).__name__}")
        for node, g in _adjoints(self, seed, create_graph).items():
            if g.__class__ is Value:
                extra = node._extra_dict()
                previous = extra.get("grad_value")
                extra["grad_value"] = g if previous is None else previous + g
                node.grad += g.data
            else:
                node.grad += g

    def register_hook(self, hook: Callable[[Any], Any]) -> _HookHandle:
        """Call ``hook(grad)`` when this node's gradient is complete in a backward pass.

        If the hook returns something other than None, that replaces the gradient
        (both what flows on to the parents and what is added to ``.grad``).
        """
        if not callable(hook):
            raise TypeError(f"register_hook takes a callable, got {type(hook).__name__}")
        hooks: list[Callable[[Any], Any]] = self._extra_dict().setdefault("hooks", [])
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def draw(self, **options: Any) -> Any:
        """Draw the graph that computes this value; see ``autograd.drawing.draw``."""
        from valuegrad.autograd.drawing import draw

        return draw(self, **options)

    # --------------------------------------------------------------- internals

    def _extra_dict(self) -> dict[str, Any]:
        if self._extra is None:
            self._extra = {}
        return self._extra

    def _remember_creation(self) -> None:
        frames = [f for f in traceback.extract_stack() if not f.filename.startswith(_PACKAGE_DIR)]
        self._extra_dict()["trace"] = traceback.format_list(frames)


class _HookHandle:
    """What ``register_hook`` returns; ``remove()`` takes the hook off again."""

    __slots__ = ("_hook", "_hooks")

    def __init__(self, hooks: list[Callable[[Any], Any]], hook: Callable[[Any], Any]) -> None:
        self._hooks = hooks
        self._hook = hook

    def remove(self) -> None:
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _data_of(x: object) -> float | None:
    if x.__class__ is Value:
        return x.data  # type: ignore[attr-defined, no-any-return]
    return _constant(x)


def _alpha(alpha: object) -> float:
    a = _constant(alpha)
    if a is None:
        raise TypeError(f"alpha must be a number, got {type(alpha).__name__}")
    return a


_new = object.__new__


def _node(data: float, parents: tuple[Value, ...], op: Op, ctx: Any) -> Value:
    """Make an op's output node (the hot path: no checks beyond one mode lookup)."""
    out: Value = _new(Value)
    out.data = data
    out.grad = 0.0
    out.label = None
    out._module = None
    out._scope = _SCOPE.get()
    out._extra = None
    mode = _MODE.get()
    if mode:
        if mode & _NO_GRAD:
            out._parents = ()
            out._op = None
            out._ctx = None
            return out
        out._remember_creation()
        if not math.isfinite(data) and all(math.isfinite(p.data) for p in parents):
            raise FloatingPointError(_anomaly_message(out, op, f"produced {data} in the forward pass"))
    out._parents = parents
    out._op = op
    out._ctx = ctx
    return out


def _unary(x: Value, op: Op, ctx: Any = None) -> Value:
    return _node(op.forward(x.data, ctx), (x,), op, ctx)


# ------------------------------------------------------------------ n-ary ops


def _split(items: Iterable[Operand], what: str) -> tuple[list[Value], float]:
    values: list[Value] = []
    constant = 0.0
    for i, item in enumerate(items):
        if item.__class__ is Value:
            values.append(item)  # type: ignore[arg-type]
            continue
        c = _constant(item)
        if c is None:
            raise TypeError(f"{what}: item {i} is a {type(item).__name__}, expected a Value or a number")
        constant += c
    return values, constant


def sum(items: Iterable[Operand]) -> Value:
    """Σ items as ONE node with n parents: 100,000 terms make one node, not a 100,000-deep chain.

    Plain numbers are folded into a constant. The empty sum is ``Value(0.0)``.
    """
    values, constant = _split(items, "autograd.sum")
    if not values:
        return Value(constant)
    return _node(ops.SUM.forward([v.data for v in values], constant), tuple(values), ops.SUM, constant)


def dot(weights: Sequence[Operand], inputs: Sequence[Operand], bias: Operand = 0.0) -> Value:
    """Σ w_i x_i + bias as ONE node: a neuron's whole pre-activation.

    Either side may hold plain numbers (a network's inputs usually are): they are
    folded in as constant partials rather than made into leaf nodes. The node's
    parents and context follow one of three layouts (see ``ops._dot``): every
    partial constant; Values on both sides, paired; or anything mixed.
    """
    ws = weights if isinstance(weights, (list, tuple)) else list(weights)
    xs = inputs if isinstance(inputs, (list, tuple)) else list(inputs)
    if len(ws) != len(xs):
        raise ValueError(f"autograd.dot: {len(ws)} weights but {len(xs)} inputs; they must match")
    if bias.__class__ is Value:
        tail: tuple[Value, ...] = (bias,)  # type: ignore[assignment]
        constant = 0.0
    else:
        b = _constant(bias)
        if b is None:
            raise TypeError(f"autograd.dot: bias is a {type(bias).__name__}, expected a Value or a number")
        tail, constant = (), b
    w_types, x_types = set(map(type, ws)), set(map(type, xs))
    if w_types == _JUST_VALUE:
        if x_types == _JUST_FLOAT:
            return _dot_node((*ws, *tail), (ops.DOT_CONST, (*xs, 1.0) if tail else tuple(xs), constant))
        if x_types == _JUST_VALUE:
            return _dot_node((*ws, *xs, *tail), (ops.DOT_PAIRED, len(ws), constant, (1.0,) if tail else ()))
    elif w_types == _JUST_FLOAT and x_types == _JUST_VALUE:
        return _dot_node((*xs, *tail), (ops.DOT_CONST, (*ws, 1.0) if tail else tuple(ws), constant))
    return _dot_mixed(ws, xs, tail, constant)


_JUST_VALUE, _JUST_FLOAT = {Value}, {float}


def _dot_node(parents: tuple[Value, ...], ctx: tuple[Any, ...]) -> Value:
    return _node(ops.DOT.forward([p.data for p in parents], ctx), parents, ops.DOT, ctx)


def _dot_mixed(ws: Sequence[Operand], xs: Sequence[Operand], tail: tuple[Value, ...], constant: float) -> Value:
    """The general layout: each parent's partner is a constant or (an int) another parent's index."""
    parents: list[Value] = []
    partners: list[Any] = []
    for i, (w, x) in enumerate(zip(ws, xs)):
        w_is_value, x_is_value = w.__class__ is Value, x.__class__ is Value
        wc = None if w_is_value else _constant(w)
        xc = None if x_is_value else _constant(x)
        if (not w_is_value and wc is None) or (not x_is_value and xc is None):
            bad = w if not w_is_value and wc is None else x
            raise TypeError(f"autograd.dot: element {i} is a {type(bad).__name__}, expected a Value or a number")
        if w_is_value and x_is_value:
            j = len(parents)
            parents += (w, x)  # type: ignore[list-item,arg-type]
            partners += (j + 1, j)
        elif w_is_value:
            parents.append(w)  # type: ignore[arg-type]
            partners.append(xc)
        elif x_is_value:
            parents.append(x)  # type: ignore[arg-type]
            partners.append(wc)
        else:
            constant += wc * xc  # type: ignore[operator]
    if tail:
        parents += tail
        partners.append(1.0)
    if not parents:
        return Value(constant)
    return _dot_node(tuple(parents), (ops.DOT_MIXED, tuple(partners), constant))


def _values(items: Iterable[Operand], what: str) -> tuple[Value, ...]:
    out = []
    for i, item in enumerate(items):
        if item.__class__ is not Value:
            c = _constant(item)
            if c is None:
                raise TypeError(f"{what}: item {i} is a {type(item).__name__}, expected a Value or a number")
            item = Value(c)
        out.append(item)
    if not out:
        raise ValueError(f"{what} of an empty sequence is undefined; pass at least one item")
    return tuple(out)  # type: ignore[arg-type]


def logsumexp(items: Iterable[Operand]) -> Value:
    """log Σ e^x_i, computed as m + log Σ e^(x_i - m) so it never overflows; its gradient is softmax."""
    values = _values(items, "autograd.logsumexp")
    return _node(ops.LOGSUMEXP.forward([v.data for v in values], None), values, ops.LOGSUMEXP, None)


def max(items: Iterable[Operand]) -> Value:
    """The largest item as one node; the gradient goes to the first maximal item (nan if any is nan)."""
    values = _values(items, "autograd.max")
    return _node(ops.MAX.forward([v.data for v in values], None), values, ops.MAX, None)


# ----------------------------------------------------------------- backward


class GraphMath:
    """``F`` for building a rule's result as Values (``create_graph=True``)."""

    @staticmethod
    def data(x: Any) -> float:
        return x.data if x.__class__ is Value else x  # type: ignore[no-any-return]

    @staticmethod
    def div(x: Any, y: Any) -> Any:
        if x.__class__ is Value or y.__class__ is Value:
            return x / y
        return _ieee.div(x, y)

    @staticmethod
    def pow(x: Any, y: Any) -> Any:
        if x.__class__ is Value or y.__class__ is Value:
            return x**y
        return _ieee.pow(x, y)

    @staticmethod
    def xlogy(x: Any, y: Any) -> Any:
        if GraphMath.data(x) == 0.0:
            return 0.0
        return x * GraphMath.log(y)

    @staticmethod
    def _lift(name: str, float_fn: Callable[[float], float]) -> Callable[[Any], Any]:
        def fn(x: Any) -> Any:
            return getattr(x, name)() if x.__class__ is Value else float_fn(x)

        return fn

    @staticmethod
    def sech2(x: Any) -> Any:
        """sech²x = 4σ(2x)σ(-2x): built from sigmoid nodes so it can be differentiated again."""
        if x.__class__ is Value:
            return 4.0 * (2.0 * x).sigmoid() * (-2.0 * x).sigmoid()
        return _ieee.sech2(x)

    exp = staticmethod(_lift("exp", _ieee.exp))
    log = staticmethod(_lift("log", _ieee.log))
    sqrt = staticmethod(_lift("sqrt", _ieee.sqrt))
    sin = staticmethod(_lift("sin", _ieee.sin))
    cos = staticmethod(_lift("cos", _ieee.cos))
    sigmoid = staticmethod(_lift("sigmoid", _ieee.sigmoid))


def topological_order(root: Value) -> list[Value]:
    """Every node ``root`` depends on, inputs before outputs, found without recursion."""
    order: list[Value] = []
    seen = {root}
    stack: list[tuple[Value, Iterator[Value]]] = [(root, iter(root._parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent not in seen:
                seen.add(parent)
                if parent._parents:
                    stack.append((parent, iter(parent._parents)))
                    break
                order.append(parent)
        else:
            stack.pop()
            order.append(node)
    return order


def _interior_order(root: Value) -> list[Value]:
    """``topological_order`` without the leaves: all backward needs to sequence.

    A leaf has nothing to pass on, so it needs no place in the order; skipping it
    saves a set lookup per edge into a parameter, which is most edges of a network.
    """
    if not root._parents:
        return []
    order: list[Value] = []
    seen = {root}
    stack: list[tuple[Value, Iterator[Value]]] = [(root, iter(root._parents))]
    while stack:
        node, parents = stack[-1]
        for parent in parents:
            if parent._parents and parent not in seen:
                seen.add(parent)
                stack.append((parent, iter(parent._parents)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def _adjoints(root: Value, seed: Any, create_graph: bool) -> dict[Value, Any]:
    """This pass's adjoint of every node ``root`` depends on (root included)."""
    with _cycle_collector_paused():
        order = _interior_order(root)
        if _MODE.get() & _ANOMALY:
            adj = _adjoints_checked(root, order, seed, create_graph)
        elif create_graph:
            adj = _adjoints_graph(root, order, seed)
        else:
            adj = _adjoints_float(root, order, seed)
        for node in [n for n in adj if n._extra is not None and not n._parents]:
            _run_hooks(node, adj)  # a leaf's adjoint is complete only once every node is done
    return adj


@contextlib.contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Keep Python's cycle collector out of a backward pass.

    The pass makes no reference cycles, but its allocations (the sort's stack, the
    adjoints) trigger full collections that rescan the whole graph: on a 50,000-step
    chain that was 0.35 s of a 0.83 s backward. Collection resumes afterwards.
    """
    was_enabled = gc.isenabled()
    if was_enabled:
        gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _adjoints_float(root: Value, order: list[Value], seed: float) -> dict[Value, float]:
    adj: dict[Value, float] = {root: seed}
    get = adj.get
    for node in reversed(order):
        g = adj[node] if node._extra is None else _run_hooks(node, adj)
        parents = node._parents
        arity = len(parents)
        # Unary and binary nodes are most nodes; unrolling them skips a list and a loop (2.5x here).
        if arity == 1:
            (parent,) = parents
            (d,) = node._op.partials(FloatMath, (parent.data,), node.data, node._ctx)  # type: ignore[union-attr]
            adj[parent] = get(parent, 0.0) + g * d
        elif arity == 2:
            left, right = parents
            d_left, d_right = node._op.partials(FloatMath, (left.data, right.data), node.data, node._ctx)  # type: ignore[union-attr]
            adj[left] = get(left, 0.0) + g * d_left
            adj[right] = get(right, 0.0) + g * d_right
        else:
            partials = node._op.partials(FloatMath, [p.data for p in parents], node.data, node._ctx)  # type: ignore[union-attr]
            for parent, d in zip(parents, partials):
                adj[parent] = get(parent, 0.0) + g * d
    return adj


def _run_hooks(node: Value, adj: dict[Value, Any]) -> Any:
    g = adj.get(node, 0.0)
    for hook in list((node._extra or {}).get("hooks", ())):
        replaced = hook(g)
        if replaced is not None:
            g = replaced
    adj[node] = g
    return g


def _adjoints_graph(root: Value, order: list[Value], seed: Any) -> dict[Value, Any]:
    """As ``_adjoints_float``, but each adjoint is a Value built from the rules: differentiable again."""
    adj: dict[Value, Any] = {root: seed}
    for node in reversed(order):
        g = _run_hooks(node, adj)
        parents = node._parents
        partials = node._op.partials(GraphMath, parents, node, node._ctx)  # type: ignore[union-attr]
        for parent, d in zip(parents, partials):
            previous = adj.get(parent)
            term = g * d
            adj[parent] = term if previous is None else previous + term
    return adj


def _adjoints_checked(root: Value, order: list[Value], seed: Any, create_graph: bool) -> dict[Value, Any]:
    """The anomaly-mode backward: stop at the first op whose gradient is nan or inf."""
    adj: dict[Value, Any] = {root: seed}
    math_ = GraphMath if create_graph else FloatMath
    for node in reversed(order):
        g = _run_hooks(node, adj)
        parents = node._parents
        xs = parents if create_graph else [p.data for p in parents]
        out = node if create_graph else node.data
        try:
            partials = node._op.partials(math_, xs, out, node._ctx)  # type: ignore[union-attr]
        except FloatingPointError as error:  # raised while building the derivative graph
            found = str(error).split(".", 1)[0]
            what = f"has a derivative that is not finite here ({found})"
            raise FloatingPointError(_anomaly_message(node, node._op, what)) from None  # type: ignore[arg-type]
        for i, (parent, d) in enumerate(zip(parents, partials)):
            term = g * d
            t = GraphMath.data(term)
            if not math.isfinite(t) and math.isfinite(GraphMath.data(g)):
                raise FloatingPointError(
                    _anomaly_message(node, node._op, f"returned {t} as the gradient for its input {i}")  # type: ignore[arg-type]
                )
            previous = adj.get(parent)
            adj[parent] = term if previous is None else previous + term
    return adj


def local_derivatives(node: Value) -> tuple[float, ...]:
    """∂node/∂parent for each of ``node``'s parents, as floats (what the edges of a drawing show)."""
    if not node._parents:
        return ()
    xs = [p.data for p in node._parents]
    return tuple(node._op.partials(FloatMath, xs, node.data, node._ctx))  # type: ignore[union-attr]


def _anomaly_message(node: Value, op: Op, what: str) -> str:
    where = "".join((node._extra or {}).get("trace", ())).rstrip()
    if not where:
        where = "  (created outside detect_anomaly(), so its creation point was not recorded)"
    return f"op '{op.name}' {what}.\nThat node was created at (most recent call last):\n{where}"


def gradients(output: Value, inputs: Sequence[Value], create_graph: bool = False) -> list[Any]:
    """d output / d input for each input, without touching any ``.grad``.

    Inputs the output does not depend on get 0.0. With ``create_graph=True`` each
    gradient is a ``Value`` that can be differentiated again.
    """
    if not isinstance(output, Value):
        raise TypeError(f"gradients(): output must be a Value, got {type(output).__name__}")
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"gradients(): inputs[{i}] is a {type(x).__name__}, expected a Value")
    adj = _adjoints(output, 1.0, create_graph)
    if not create_graph:
        return [adj.get(x, 0.0) for x in inputs]
    result = []
    for x in inputs:
        g = adj.get(x, 0.0)
        result.append(g if g.__class__ is Value else Value(g))
    return result


def zero_grad(root: Value) -> None:
    """Set ``.grad`` to 0 on ``root`` and everything it depends on."""
    for node in topological_order(root):
        node.grad = 0.0
        if node._extra is not None:
            node._extra.pop("grad_value", None)


# ---------------------------------------------------------------------- modes


class _ModeSwitch:
    """Context manager and decorator that sets or clears one mode bit for its extent.

    As a decorator it wraps plain functions, generator functions (every resumption of the
    generator runs inside the mode, not just its creation) and ``async def`` coroutines
    (the mode holds across awaits within the task, and never leaks to other tasks).
    """

    _set = 0
    _clear = 0

    def __init__(self) -> None:
        self._tokens: list[contextvars.Token[int]] = []

    def __enter__(self) -> None:
        self._tokens.append(_MODE.set((_MODE.get() | self._set) & ~self._clear))

    def __exit__(self, *exc: object) -> None:
        _MODE.reset(self._tokens.pop())

    def __call__(self, func: _F) -> _F:
        name = type(self).__name__
        checks.function(func, "the decorated object", f"{name}()")
        switch = type(self)
        if inspect.isgeneratorfunction(func):
            return _wrap_generator(switch, func)  # type: ignore[return-value]
        if inspect.iscoroutinefunction(func):

            @functools.wraps(func)
            async def coroutine(*args: Any, **kwargs: Any) -> Any:
                with switch():
                    return await func(*args, **kwargs)

            return coroutine  # type: ignore[return-value]

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with switch():
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


def _wrap_generator(switch: Callable[[], _ModeSwitch], func: Callable[..., Generator[Any, Any, Any]]) -> Any:
    """Run each step of the generator (start, send, throw, close) inside the mode, as torch does."""

    @functools.wraps(func)
    def generator(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        with switch():
            gen = func(*args, **kwargs)
        try:
            with switch():
                response = gen.send(None)
            while True:
                try:
                    request = yield response
                except GeneratorExit:
                    with switch():
                        gen.close()
                    raise
                except BaseException as error:  # forwarded into the generator
                    with switch():
                        response = gen.throw(error)
                else:
                    with switch():
                        response = gen.send(request)
        except StopIteration as done:
            return done.value

    return generator


class no_grad(_ModeSwitch):
    """Values made inside record no parents (a context manager and a decorator).

    The flag lives in a ContextVar, so other threads and async tasks are unaffected.
    The function transforms (``grad``, ``hessian``, ...) and ``gradcheck`` record
    regardless, as JAX's do: they open ``enable_grad()`` around their own work.
    """

    _set = _NO_GRAD


class enable_grad(_ModeSwitch):
    """Record parents again inside an enclosing ``no_grad`` (a context manager and a decorator), as in PyTorch."""

    _clear = _NO_GRAD


class detect_anomaly(_ModeSwitch):
    """Raise ``FloatingPointError`` at the first nan/inf an op makes, forward or backward.

    The error names the op and shows where its node was created. Outside this
    context there is no cost beyond the one mode lookup every node already does.
    """

    _set = _ANOMALY
