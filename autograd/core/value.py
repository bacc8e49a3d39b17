"""``Value``: a scalar node in a computation graph, and how op nodes are made.

A node keeps its parents (in argument order), the row of the op table that made it
(``ops.py``) and that row's constant context. The derivative rule lives in the
table, not in a per-node closure: a node never refers to itself, so a dropped graph
is freed by reference counting alone and Python's cycle collector has nothing to do.

Pickling and copying: a leaf (an input, a model's parameter) pickles and deep-copies
like any object, so models keep pickling. A node with parents refuses both with a
TypeError: a graph is a record of one computation, rebuilt by running it again; and
copying one node-by-node would recurse once per level of depth. ``detach()`` gives a
leaf with the same data.
"""

from __future__ import annotations

import math
import numbers
import operator
from typing import TYPE_CHECKING, Any, Callable, Union

from . import ieee as _ieee
from . import modes as _modes
from . import ops
from .modes import ANOMALY, NO_GRAD, STATE, TRACING, Scope
from .ops import Op

__all__ = ["Value", "hypot"]

Number = Union[int, float]
Operand = Union["Value", int, float]


def constant(x: object) -> float | None:
    """A plain number as a float, or None if ``x`` is not one (bools are not numbers here)."""
    if x.__class__ is float:
        return x  # type: ignore[return-value]
    if isinstance(x, numbers.Real) and not isinstance(x, bool):
        try:
            return float(x)
        except OverflowError:  # an int too large for a double
            return math.inf if x > 0 else -math.inf  # type: ignore[operator]
    return None


def _exponent(x: object) -> float | None:
    """As ``constant``, but an int too large for a double keeps its parity (see ``_ieee.int_exponent``)."""
    if x.__class__ is int:
        return _ieee.int_exponent(x)  # type: ignore[arg-type]
    return constant(x)


def _unary_method(op: Op, doc: str) -> Callable[[Value], Value]:
    """A Value method applying the unary row ``op`` (the row's forward runs)."""

    def method(self: Value) -> Value:
        return node(op.forward(self.data, None), (self,), op, None)

    method.__name__, method.__qualname__ = op.name, f"Value.{op.name}"  # pickle finds it as Value.<name>
    method.__doc__ = doc
    return method


def _binary_method(op: Op, folded: Op, doc: str) -> Callable[[Value, Operand], Value]:
    """A Value method applying the binary row ``op`` to another Value, or with a number the
    unary ``folded`` row holding it as its constant (as ``x * 2.0`` is one ``mul_const`` node)."""

    def method(self: Value, other: Operand) -> Value:
        if other.__class__ is Value:
            return node(op.forward(self.data, other.data), (self, other), op, None)  # type: ignore[union-attr,arg-type]
        c = constant(other)
        if c is None:
            raise TypeError(f"{op.name}() takes a Value or a real number, got {type(other).__name__}")
        return node(folded.forward(self.data, c), (self,), folded, c)

    method.__name__, method.__qualname__ = op.name, f"Value.{op.name}"
    method.__doc__ = doc
    return method


def _arithmetic(
    op: Op, folded: Op, fold: Callable[[object], float | None] = constant
) -> Callable[[Value, Operand], Value]:
    """``self (op) other``: a binary ``op`` node, or with a number (read by ``fold``) the unary ``folded`` node."""

    def method(self: Value, other: Operand) -> Value:
        if other.__class__ is Value:
            return node(op.forward(self.data, other.data), (self, other), op, None)  # type: ignore[union-attr,arg-type]
        c = fold(other)
        return NotImplemented if c is None else node(folded.forward(self.data, c), (self,), folded, c)

    return method


def _reflected(op: Op) -> Callable[[Value, Number], Value]:
    """``number (op) self``: the unary ``op`` node holding the number."""

    def method(self: Value, other: Number) -> Value:
        c = constant(other)
        return NotImplemented if c is None else node(op.forward(self.data, c), (self,), op, c)

    return method


def _order(symbol: str, compare: Callable[[float, float], bool]) -> Callable[[Value, Operand], bool]:
    """An order comparison of the data (``x > 0``); inside a jit trace it is reported as a guard."""

    def method(self: Value, other: Operand) -> bool:
        o = _data_of(other)
        if o is None:
            return NotImplemented
        result = compare(self.data, o)
        trace = STATE.get().trace
        if trace is not None:
            trace.compared(self, symbol, other, result)
        return result

    method.__name__ = method.__qualname__ = f"__{compare.__name__}__"
    return method


def _read(value: Value) -> float:
    """``value``'s number handed to Python (``float``, ``item``, ``repr``); inside a jit trace, a guard."""
    number = value.data
    trace = STATE.get().trace
    if trace is not None:
        trace.read(value, number, 0)
    return number


if TYPE_CHECKING:
    import weakref

# Value -> owning module's path, for parameters only (see Value.module_path); made on first use.
_MODULE_PATHS: weakref.WeakKeyDictionary[Value, str] | None = None


class Value:
    """A scalar that remembers how it was computed.

    >>> a, b = Value(2.0), Value(-3.0)
    >>> c = a * b + a
    >>> c.backward()
    >>> c.data, a.grad, b.grad
    (-4.0, -2.0, 2.0)
    """

    __slots__ = ("__weakref__", "_ctx", "_extra", "_op", "_parents", "_scope", "data", "grad", "label")

    data: float
    grad: float
    label: str | None
    _parents: tuple[Value, ...]
    _op: Op | None
    _ctx: Any
    _scope: Scope | None  # the innermost scope open when this value was made
    _extra: dict[str, Any] | None  # rarely used: hooks, anomaly trace, differentiable grad

    def __init__(self, data: Number, label: str | None = None) -> None:
        value = constant(data)
        if value is None:
            if isinstance(data, Value):
                hint = "it is already a Value: use it directly, or v.detach() for a detached copy"
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
        state = STATE.get()
        self._scope = state.scope
        self._extra = None
        if state.mode:
            if state.mode & ANOMALY:
                self._remember_creation()
            if state.trace is not None:
                state.trace.leaf(self)

    # ----------------------------------------------------------------- basics

    @property
    def parents(self) -> tuple[Value, ...]:
        """The inputs of the op that made this value, in argument order (``a + a`` has ``(a, a)``)."""
        return self._parents

    @property
    def is_leaf(self) -> bool:
        """True for a value with no parents: an input, a parameter, a constant, or one made under ``no_grad``."""
        return not self._parents

    @property
    def op(self) -> str | None:
        """The op's unique name (``'add'``, ``'mul_const'``, ``'tanh'``, ...), or None for a leaf."""
        return None if self._op is None else self._op.name

    @property
    def op_symbol(self) -> str | None:
        """How drawings show the op, with any folded constant: ``'*'``, ``'+ 2'``, ``'leaky_relu(0.01)'``."""
        return None if self._op is None else self._op.display(self._ctx)

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
        """Dotted path of the ``nn`` module that owns this parameter (``'MLP.layers.0.neurons.3'``), if any.

        Kept in a weak side table, not in a slot: only parameters have one, and a slot would
        cost every node of every graph 8 bytes.
        """
        return None if _MODULE_PATHS is None else _MODULE_PATHS.get(self)

    @module_path.setter
    def module_path(self, path: str | None) -> None:
        global _MODULE_PATHS
        if _MODULE_PATHS is None:
            import weakref

            _MODULE_PATHS = weakref.WeakKeyDictionary()
        if path is None:
            _MODULE_PATHS.pop(self, None)
        else:
            _MODULE_PATHS[self] = path

    @property
    def grad_value(self) -> Value | None:
        """The differentiable gradient left by ``backward(create_graph=True)``; ``.grad`` holds its float."""
        return None if self._extra is None else self._extra.get("grad_value")

    def item(self) -> float:
        """The data as a plain float (as ``torch.Tensor.item``)."""
        return _read(self)

    def detach(self) -> Value:
        """A new leaf with the same data and label: what flows through it is cut from this graph.

        Inside a jit trace the new leaf is still computed from this value at every replay
        (with no gradient through it), as the eager call computes it.
        """
        out = Value(self.data, self.label)
        trace = STATE.get().trace
        if trace is not None:
            trace.detached(out, self)
        return out

    def __repr__(self) -> str:
        name = f", label={self.label!r}" if self.label is not None else ""
        return f"Value(data={_read(self)!r}, grad={self.grad!r}{name})"

    def __float__(self) -> float:
        return _read(self)

    def __reduce_ex__(self, protocol: Any) -> Any:
        if self._parents:
            raise TypeError(
                f"cannot pickle or copy a Value made by op '{self.op}' (a graph node): pickle or copy "
                "leaves and parameters, or v.detach() for a leaf with the same data; rebuild graphs by rerunning"
            )
        return super().__reduce_ex__(protocol)

    # Identity semantics for == and hash (nodes go in sets and dicts); order compares data.
    __hash__ = object.__hash__

    __lt__ = _order("<", operator.lt)
    __le__ = _order("<=", operator.le)
    __gt__ = _order(">", operator.gt)
    __ge__ = _order(">=", operator.ge)

    # ------------------------------------------------------------ arithmetic
    # Value (op) Value makes a binary node; a number on either side is folded into a unary
    # node as its constant. Forwards come from the rows (``test_ops_properties`` holds the
    # inline ``+ - *`` below equal to ADD's, SUB's, MUL's... forward).

    def __add__(self, other: Operand) -> Value:
        if other.__class__ is Value:
            return node(self.data + other.data, (self, other), ops.ADD, None)  # type: ignore[union-attr]
        c = constant(other)
        return NotImplemented if c is None else node(self.data + c, (self,), ops.ADD_CONST, c)

    def __radd__(self, other: Number) -> Value:
        c = constant(other)
        return NotImplemented if c is None else node(c + self.data, (self,), ops.ADD_CONST, c)

    def __sub__(self, other: Operand) -> Value:
        if other.__class__ is Value:
            return node(self.data - other.data, (self, other), ops.SUB, None)  # type: ignore[union-attr]
        c = constant(other)
        return NotImplemented if c is None else node(self.data - c, (self,), ops.ADD_CONST, -c)

    __rsub__ = _reflected(ops.RSUB)

    def __mul__(self, other: Operand) -> Value:
        if other.__class__ is Value:
            return node(self.data * other.data, (self, other), ops.MUL, None)  # type: ignore[union-attr]
        c = constant(other)
        return NotImplemented if c is None else node(self.data * c, (self,), ops.MUL_CONST, c)

    def __rmul__(self, other: Number) -> Value:
        c = constant(other)
        return NotImplemented if c is None else node(c * self.data, (self,), ops.MUL_CONST, c)

    __truediv__ = _arithmetic(ops.DIV, ops.DIV_CONST)
    __rtruediv__ = _reflected(ops.RDIV)
    __pow__ = _arithmetic(ops.POW, ops.POW_CONST, _exponent)
    __rpow__ = _reflected(ops.RPOW)

    def __neg__(self) -> Value:
        return node(-self.data, (self,), ops.NEG, None)

    def __pos__(self) -> Value:
        return self

    # --------------------------------------------------------------- functions
    # Each is its op-table row applied to this value (``_unary_method``).

    abs = _unary_method(ops.ABS, "|x|; abs'(0) = 0.")
    __abs__ = abs
    exp = _unary_method(ops.EXP, "e^x; overflow gives inf.")
    log = _unary_method(ops.LOG, "Natural log; log(0) = -inf and log(x < 0) = nan, as in IEEE 754.")
    sqrt = _unary_method(ops.SQRT, "Square root; sqrt(x < 0) = nan.")
    sin = _unary_method(ops.SIN, "Sine (radians).")
    cos = _unary_method(ops.COS, "Cosine (radians).")
    tanh = _unary_method(ops.TANH, "Hyperbolic tangent; its derivative is stable in the tails.")
    sigmoid = _unary_method(ops.SIGMOID, "1 / (1 + e^-x), computed without overflow for any x.")
    relu = _unary_method(ops.RELU, "max(x, 0); relu'(0) = 0.")
    softplus = _unary_method(ops.SOFTPLUS, "log(1 + e^x), stable for large |x|.")
    hard_tanh = _unary_method(ops.HARD_TANH, "Clamp to [-1, 1]; the slope at ±1 is 0.")

    hypot = _binary_method(
        ops.HYPOT,
        ops.HYPOT_CONST,
        "√(x² + y²) without overflow (``math.hypot``); ``other`` a Value or a number. "
        "hypot(inf, nan) = inf; the gradient (x/h, y/h) is taken as 0 at (0, 0).",
    )

    def leaky_relu(self, alpha: float = 0.01) -> Value:
        """x if x > 0 else alpha * x; the slope at 0 is alpha."""
        return _unary(self, ops.LEAKY, _alpha(alpha))

    def elu(self, alpha: float = 1.0) -> Value:
        """x if x > 0 else alpha * (e^x - 1); the slope at 0 is alpha."""
        return _unary(self, ops.ELU, _alpha(alpha))

    # ---------------------------------------------------------------- autodiff

    def backward(self, grad: Number = 1.0, create_graph: bool = False) -> None:
        """Add d(self)/d(node) * grad into ``.grad`` of every node this value depends on.

        Gradients accumulate (PyTorch semantics): a second call adds the same amounts
        again; reset with ``zero_grad``. ``create_graph=True`` also builds the gradient as
        Values (``grad_value``), for higher order; as in PyTorch that makes a reference
        cycle, so prefer ``gradients(..., create_graph=True)``, which leaves nothing behind.
        """
        _sweep.backward(self, grad, create_graph)

    def register_hook(self, hook: Callable[[Any], Any]) -> _sweep.HookHandle:
        """Call ``hook(grad)`` when this node's gradient is complete in a backward pass.

        If the hook returns something other than None (a number, or a Value under
        ``create_graph``), that replaces the gradient (both what flows on to the
        parents and what is added to ``.grad``).
        """
        if not callable(hook):
            raise TypeError(f"register_hook takes a callable, got {type(hook).__name__}")
        hooks: list[Callable[[Any], Any]] = self.extra().setdefault("hooks", [])
        hooks.append(hook)
        return _sweep.HookHandle(hooks, hook)

    # --------------------------------------------------------------- internals

    def extra(self) -> dict[str, Any]:
        """The rarely used per-node fields (hooks, anomaly trace, differentiable grad), made on demand."""
        if self._extra is None:
            self._extra = {}
        return self._extra

    def _remember_creation(self) -> None:
        self.extra()["trace"] = _modes.creation_trace()


def hypot(x: Operand, y: Operand) -> Value:
    """√(x² + y²) as one node, either argument a Value or a plain number (``Value.hypot``).

    A number on either side is folded in as the node's constant (``hypot_const``): hypot is
    symmetric bit for bit (``ieee.hypot``), as ``2.0 * x`` and ``x * 2.0`` are one ``mul_const``.

    >>> hypot(Value(3.0), 4).data
    5.0
    """
    if x.__class__ is not Value and y.__class__ is Value:
        return y.hypot(x)  # type: ignore[union-attr]
    return (x if x.__class__ is Value else Value(x)).hypot(y)  # type: ignore[arg-type,union-attr]


def _data_of(x: object) -> float | None:
    if x.__class__ is Value:
        return x.data  # type: ignore[attr-defined, no-any-return]
    return constant(x)


def _alpha(alpha: object) -> float:
    a = constant(alpha)
    if a is None:
        raise TypeError(f"alpha must be a number, got {type(alpha).__name__}")
    return a


def anomaly_message(node: Value, what: str) -> str:
    """'op NAME WHAT', and where ``node`` was created (recorded under ``detect_anomaly``)."""
    trace = (node._extra or {}).get("trace", ())
    return _modes.anomaly_message(node._op.name if node._op is not None else "leaf", trace, what)


_new = object.__new__


def node(data: float, parents: tuple[Value, ...], op: Op, ctx: Any) -> Value:
    """Make an op's output node (the hot path: no checks beyond one mode lookup)."""
    out: Value = _new(Value)
    out.data = data
    out.grad = 0.0
    out.label = None
    state = STATE.get()
    out._scope = state.scope
    out._extra = None
    mode = state.mode
    if mode:
        if mode & TRACING:
            out.__class__ = Traced  # type: ignore[assignment]  # reads of its number become guards
        if mode & NO_GRAD:
            out._parents = ()
            out._op = None
            out._ctx = None
            return out
        if mode & ANOMALY:
            out._op = op
            out._remember_creation()
            if not math.isfinite(data) and all(math.isfinite(p.data) for p in parents):
                raise FloatingPointError(anomaly_message(out, f"produced {data} in the forward pass"))
    out._parents = parents
    out._op = op
    out._ctx = ctx
    return out


_DATA = Value.__dict__["data"]  # the slot itself: reads through it are the engine's own


class Traced(Value):
    """A node made inside a jit trace (or a traced input): a ``Value`` whose number is watched.

    Reads of ``.data`` from outside ``autograd/core`` (the engine computing its ops) are
    reported to the trace of the reading context, which guards them; reads in other threads,
    or after the trace, are plain reads. It passes for a ``Value`` everywhere
    (``x.__class__ is Value``), so the engine's fast paths take it; only ``type(x)`` tells.
    Made by node creation under the ``TRACING`` mode, never by patching ``Value``.
    """

    __slots__ = ()

    @property  # type: ignore[misc]
    def __class__(self) -> type:
        return Value

    @property  # type: ignore[override]
    def data(self) -> float:
        number: float = _DATA.__get__(self, Value)
        trace = STATE.get().trace
        if trace is not None:
            trace.read(self, number, 2)
        return number

    @data.setter
    def data(self, number: float) -> None:
        _DATA.__set__(self, number)


def traced_input(x: float) -> Value:
    """A leaf for an input of a jit trace: reads of its number are guarded."""
    leaf = Value(x)
    leaf.__class__ = Traced  # type: ignore[assignment]
    return leaf


def _unary(x: Value, op: Op, ctx: Any = None) -> Value:
    return node(op.forward(x.data, ctx), (x,), op, ctx)


# The one import circle kept on purpose: ``Value.backward`` runs the sweep and the sweep walks
# Values. Splitting them would put ``backward`` away from the node it belongs to; imported last,
# as a module reference, it resolves in either import order.
from . import sweep as _sweep  # noqa: E402
