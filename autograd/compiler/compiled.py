"""``jit``: trace a function on Values once, then replay it as generated straight-line Python.

In a training loop the graph has the same shape at every step; only the numbers change.
``jit(f)`` runs ``f`` once on ``Value``s, records the tape (every node in topological
order, its op-table row and constants), and writes one plain Python function that
computes the output and the gradients from new input numbers: the forward pass as one
assignment per node, the backward pass as one line per edge (the Wengert list, as 004's
lecture writes it by hand). Later calls with arguments of the same shape run that
function: no nodes, no graph, no sort. ``.source`` shows the code.

It is called ``jit`` because it is one, in the sense of ``jax.jit``: compiled on the first
call, cached per argument shape, and traced again when the trace's assumptions fail.
(``compile`` would shadow the builtin that does the compiling.)

What can be compiled, and what cannot:

* Arguments are numbers or (nested) lists and tuples of numbers; each becomes an input.
  ``static_argnums`` marks arguments that are constants of the trace instead (labels,
  options): a new value of one of them means a new trace (they must be hashable or lists).
* ``Value``s the function closes over (a model's parameters, or intermediates such as
  ``w2 = w * 3.0`` computed outside) are inputs read from their ``.data`` at each call, as the
  eager call reads them; their ``.grad`` receives the gradient, and it flows on through their
  recorded graph into their ancestors' ``.grad``, as ``backward()`` would add it.
* Python control flow on the data is guarded. Every way a traced Value's number reaches
  Python is recorded -- comparisons (``if x > 0``), ``float(x)`` (so ``math.exp(x)``),
  ``x.item()``, ``repr``/``str``/f-strings, and reads of ``x.data`` outside the engine's core --
  and the replay checks them first: if one would come out differently, the function is traced
  again for the new path (up to ``max_traces`` paths per shape; then ``CompileError`` names the
  place that keeps changing). Kinks inside ops (relu's ``x > 0``) are part of the generated
  code and need no guard. ``int(x)``, ``round(x)`` and format specs are TypeErrors as in eager
  mode; ``bool(x)`` is True for every Value, so reads nothing.
* ``x.detach()`` is an op of the trace: the replay recomputes it from the current inputs, and
  no gradient passes through it, as in eager mode.
* Tracing is a mode of the calling context (``core.modes.tracing``): other threads and async
  tasks compute eagerly meanwhile, their ``no_grad()`` included.
* Frozen, as in JAX: the Python numbers ``f`` closes over or computes without a Value (a global
  ``scale = 2.0`` stays 2.0 in the replay after you rebind it), random numbers drawn inside
  ``f``, and ``f``'s code and side effects (it runs only when tracing). A raw ``w.data`` read
  of a Value ``f`` closes over is not seen (use ``float(w)``, ``w.item()`` or compare ``w``).
* Traced: the transforms ``grad``, ``value_and_grad``, ``hessian`` and ``jacobian`` inside ``f``,
  and ``gradients(..., create_graph=True)``. A trace is a transform level, since jit means
  ``value_and_grad``; a transform inside answers in Values, recorded and recomputed by the replay.
* Refused with ``CompileError`` naming the call, since their numbers would be frozen:
  ``no_grad()``, ``backward()``, float ``gradients()``, ``gradcheck``, a transform where the
  trace opens no level (``nn``'s training step, whose eager call is at level 0, where a transform
  answers floats), backward hooks on traced nodes, and a ``jit`` traced inside another's trace.

A batch whose examples all run one graph (a model applied to each sample) need not be written
out whole: ``example.Example(f, x)`` compiles ``f`` for ONE example, looped over the batch, adding
the gradient terms in the engine's order (``fit(compile=True)`` does this; the code stays small
enough for the CPU's caches).

Results equal the engine's: the same float operations in the same order, so the value and
every gradient agree bit for bit (a zero gradient may differ in sign: the engine adds the
first contribution to 0.0, which turns -0.0 into 0.0). The engine meant is the eager call
``value_and_grad`` makes: numbers in a list argument without a gradient stay floats there
(as an example's inputs do for ``model(x)``), and the engine lays out a ``dot`` or ``sum``
over floats otherwise than over Values (``_nary_code``; for a dot it shows from Python 3.12
on, where ``sum`` compensates). Where the trace cannot tell that a number was plain in the
eager call, the layouts can still differ: numbers ``f`` computes from its inputs, and
constants of ``f`` mixed with the inputs in one ``sum`` or ``dot`` (see
``_nary_code.eager_layout``). Ints are no exception: ``dot`` lays them out as their floats.
"""

from __future__ import annotations

import collections
import contextlib
import html
import inspect
import itertools
import time
from typing import Any, Callable, Sequence

from ..core import Value
from ..core import checks as _checks
from ..core.modes import transform_level
from ..core.value import constant, traced_input
from .codegen import Generated, GuardFailed, generate
from .seeded import NotLoopable
from .tape import make_tape
from .tracing import CompileError, recording

__all__ = ["CompileError", "Compiled", "NotLoopable", "jit"]

#: How many argument shapes (with their static values) one compiled function keeps traces for.
MAX_SHAPES = 32


def _flatten(arg: Any, where: str, out: list[float]) -> Any:
    """Append ``arg``'s numbers to ``out``; return its shape (None for a number, else a tuple)."""
    if arg.__class__ is float:
        out.append(arg)
        return None
    if isinstance(arg, (list, tuple)):
        if all(item.__class__ is float for item in arg):  # the common cases, without a call per number
            out.extend(arg)
            return (None,) * len(arg)
        shape = []
        for i, item in enumerate(arg):  # a batch of rows: a model's outputs, a list of examples
            if item.__class__ in (list, tuple) and all(x.__class__ is float for x in item):
                out.extend(item)
                shape.append((None,) * len(item))
            else:
                shape.append(_flatten(item, f"{where}[{i}]", out))
        return tuple(shape)
    number = constant(arg)  # an int, a Fraction, a numpy scalar: as Value() converts it
    if number is not None:
        out.append(number)
        return None
    raise TypeError(
        f"jit: argument {where} is a {type(arg).__name__}; compiled functions take numbers or lists of "
        "numbers (pass other things with static_argnums, or close over them)"
    )


def _rebuild(shape: Any, items: Any) -> Any:
    """The inverse of ``_flatten``: ``shape`` filled from the iterator ``items``."""
    if shape is None:
        return next(items)
    if shape.count(None) == len(shape):  # a flat list
        return list(itertools.islice(items, len(shape)))
    if shape.count((None,)) == len(shape):  # rows of one number: a model's outputs
        return [[item] for item in itertools.islice(items, len(shape))]
    return [_rebuild(s, items) for s in shape]


def _freeze(x: Any) -> Any:
    """A hashable stand-in for a static argument (lists become tuples)."""
    if isinstance(x, (list, tuple)):
        if all(i.__class__ is float for i in x):
            return tuple(x)
        return tuple(_freeze(i) for i in x)
    try:
        hash(x)
    except TypeError:
        raise TypeError(f"jit: static argument {x!r} is not hashable") from None
    return x


class _Trace:
    """One compiled path: the generated function and what it needs at a call."""

    def __init__(self, generated: Generated, aux_shape: Any, started: float) -> None:
        self.source = generated.source
        namespace = dict(generated.globals)
        code = compile(generated.source, "<valuegrad.jit>", "exec")
        exec(code, namespace)  # our own generated text, never user text
        self.run: Callable[[list[float]], tuple[Any, Any, Any]] = namespace["compiled"]
        self.aux_shape = aux_shape
        self.places: list[str] = []  # where each guard was recorded, for error messages
        self.seconds = time.perf_counter() - started  # trace, code generation and compile()


class Compiled:
    """What ``jit`` returns: call it like ``f``; it returns ``(value, grads)``.

    With ``has_aux=True`` ``f`` returns ``(output, aux)`` and a call returns
    ``((value, aux), grads)``, aux as floats (as ``jax.value_and_grad`` does).
    """

    def __init__(
        self,
        f: Callable[..., Any],
        argnums: Any,
        has_aux: bool,
        static_argnums: Sequence[int],
        max_traces: int,
        *,
        opens_level: bool = True,
    ) -> None:
        self.f = f
        # jit's meaning is value_and_grad's, a transform level: grad(g) inside f answers in Values
        # the trace records. ``nn``'s training step is not (eager training calls the model at level 0).
        self.opens_level = opens_level
        self.argnums = argnums
        self._wanted = () if argnums == () else _checks.argnums(argnums, "jit")  # checked now, fitted per call
        self.has_aux = has_aux
        self.static_argnums = tuple(static_argnums)
        self.max_traces = max_traces
        # Traces by argument shape and static values, least recently used first; the oldest
        # shapes are dropped past MAX_SHAPES (each trace holds a compiled function).
        self._cache: collections.OrderedDict[Any, list[_Trace]] = collections.OrderedDict()
        self._last: _Trace | None = None
        self.traces = 0  # how many times f was traced (a measure of guard failures)
        try:
            self._names = list(inspect.signature(f).parameters)
        except (TypeError, ValueError):
            self._names = []

    # ---------------------------------------------------------------- calling

    def __call__(self, *args: Any) -> Any:
        flat: list[float] = []
        shapes: dict[int, Any] = {}
        statics = []
        for i, arg in enumerate(args):
            if i in self.static_argnums:
                statics.append(_freeze(arg))
            else:
                shapes[i] = _flatten(arg, str(i), flat)
        key = (len(args), tuple(shapes.values()), tuple(statics))
        traces = self._cache.setdefault(key, [])
        self._cache.move_to_end(key)
        if len(self._cache) > MAX_SHAPES:
            self._cache.popitem(last=False)
        failed: list[int] = []
        for trace in traces:
            try:
                return self._pack(trace, trace.run(flat), shapes, len(args))
            except GuardFailed as guard:
                failed.append(guard.index)
        if len(traces) >= self.max_traces:
            raise CompileError(self._thrash_message(traces, failed))
        trace = self._trace(args)
        traces.insert(0, trace)
        try:
            return self._pack(trace, trace.run(flat), shapes, len(args))
        except GuardFailed as guard:  # never expected: the trace's numbers are the eager call's
            traces.remove(trace)
            raise CompileError(
                f"jit: the trace just made fails its own guard ({trace.places[guard.index]}): the number "
                "read while tracing differs from the one the replay computes. This is a bug in valuegrad; "
                "please report it, and call the function without jit meanwhile."
            ) from None

    def _pack(self, trace: _Trace, result: tuple[Any, Any, Any], shapes: dict[int, Any], nargs: int) -> Any:
        self._last = trace
        value, aux, grads = result
        chosen = self._chosen(nargs)
        items = iter(grads)
        shaped = [_rebuild(shapes[i], items) for i in chosen]
        packed = shaped[0] if isinstance(self.argnums, int) else tuple(shaped)
        if self.has_aux:
            return (value, _rebuild(trace.aux_shape, iter(aux))), packed
        return value, packed

    def _chosen(self, nargs: int) -> tuple[int, ...]:
        chosen = _checks.chosen_argnums(self._wanted, nargs, "jit")
        bad = [i for i in chosen if i in self.static_argnums]
        if bad:
            raise ValueError(f"jit: argument {bad[0]} is static, so it has no gradient; drop it from argnums")
        return chosen

    # ---------------------------------------------------------------- tracing

    def _trace(self, args: tuple[Any, ...]) -> _Trace:
        started = time.perf_counter()
        chosen = self._chosen(len(args))
        inputs: list[Value] = []
        wanted: list[int] = []
        hints: dict[int, str] = {}
        numbers: set[int] = set()
        call_args = []
        for i, arg in enumerate(args):
            if i in self.static_argnums:
                call_args.append(arg)
                continue
            flat: list[float] = []
            shape = _flatten(arg, str(i), flat)
            leaves = [traced_input(x) for x in flat]
            if shape is None and i < len(self._names):
                hints[id(leaves[0])] = self._names[i]  # a scalar argument keeps its parameter's name
            if i in chosen:
                wanted += range(len(inputs), len(inputs) + len(leaves))
            elif shape is not None:  # value_and_grad passes a list's numbers on as they are
                numbers.update(map(id, leaves))
            inputs += leaves
            call_args.append(_rebuild(shape, iter(leaves)))
        level = transform_level("jit", traceable=True) if self.opens_level else contextlib.nullcontext()
        with level, recording(numbers) as record:
            result = self.f(*call_args)
        output, aux_items, aux_shape = self._split_result(result)
        tape = make_tape(output, aux_items, inputs, wanted, record, hints, numbers)
        trace = _Trace(generate(tape), aux_shape, started)
        trace.places = [_describe(guard) for guard in tape.guards]
        self.traces += 1
        return trace

    def _split_result(self, result: Any) -> tuple[Value, list[Value], Any]:
        aux_items: list[Value] = []
        aux_shape: Any = None
        if self.has_aux:
            if not (isinstance(result, tuple) and len(result) == 2):
                raise TypeError("jit(has_aux=True): the function must return a pair (output, aux)")
            result, aux = result
            aux_shape = _values_shape(aux, aux_items)
        output = result if result.__class__ is Value else _as_value(result)
        return output, aux_items, aux_shape

    # ---------------------------------------------------------------- showing

    @property
    def source(self) -> str:
        """The generated code of the most recent call's trace (traces on no call: call once first)."""
        if self._last is None:
            raise CompileError("nothing compiled yet: call the function once, then read .source")
        return self._last.source

    @property
    def trace_seconds(self) -> float:
        """How long the most recent call's trace and compilation took."""
        if self._last is None:
            raise CompileError("nothing compiled yet: call the function once first")
        return self._last.seconds

    def _repr_markdown_(self) -> str:
        if self._last is None:
            return f"`jit({getattr(self.f, '__name__', 'f')})`, not yet traced"
        return f"```python\n{self._last.source}```\n"

    def _repr_html_(self) -> str:
        if self._last is None:
            return f"<code>jit({html.escape(getattr(self.f, '__name__', 'f'))})</code>, not yet traced"
        return f"<pre><code class='language-python'>{html.escape(self._last.source)}</code></pre>"

    def _thrash_message(self, traces: list[_Trace], failed: list[int]) -> str:
        places = sorted({trace.places[i] for trace, i in zip(traces, failed)})
        return (
            f"jit: {len(traces)} trace(s) of {getattr(self.f, '__name__', 'f')} for this argument shape (max_traces="
            f"{self.max_traces}), and Python code read the data differently again at: {'; '.join(places)}. "
            "Move that decision out of the compiled function, pass it as a static argument, or raise max_traces."
        )


def _describe(guard: Any) -> str:
    what = "a read of .data or float()" if guard.kind == "==" else f"a comparison ({guard.kind})"
    return f"{guard.place} ({what})"


def _as_value(x: Any) -> Value:
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return Value(float(x))
    raise TypeError(f"jit: the function must return a Value (or a number), got {type(x).__name__}")


def _values_shape(aux: Any, out: list[Value]) -> Any:
    if isinstance(aux, (list, tuple)):
        return tuple(_values_shape(a, out) for a in aux)
    out.append(aux if aux.__class__ is Value else _as_value(aux))
    return None


def jit(
    f: Callable[..., Any],
    argnums: Any = 0,
    *,
    has_aux: bool = False,
    static_argnums: Sequence[int] = (),
    max_traces: int = 8,
) -> Compiled:
    """Compile ``f`` into straight-line Python; calls return ``(value, gradient)`` like ``value_and_grad``.

    ``argnums`` (an int, a tuple, or ``()`` for none) chooses the arguments to differentiate;
    ``Value``s ``f`` closes over get their gradient added to ``.grad``. What can and cannot be
    compiled (guards, static arguments, refusals): ``help(valuegrad.autograd.compiled)``.

    >>> step = jit(lambda x, y: (x * y + x).tanh(), argnums=(0, 1))
    >>> value, (dx, dy) = step(0.5, -1.5)
    >>> from valuegrad.autograd import value_and_grad
    >>> (value, (dx, dy)) == value_and_grad(lambda x, y: (x * y + x).tanh(), argnums=(0, 1))(0.5, -1.5)
    True
    """
    _checks.function(f, "f", "jit")
    if not isinstance(static_argnums, (list, tuple)):
        raise TypeError(f"jit: static_argnums must be a tuple of argument positions, got {static_argnums!r}")
    static_argnums = [_checks.integer(i, f"static_argnums[{k}]", "jit", low=0) for k, i in enumerate(static_argnums)]
    max_traces = _checks.integer(max_traces, "max_traces", "jit", low=1)
    return Compiled(f, argnums, _checks.flag(has_aux, "has_aux", "jit"), static_argnums, max_traces)
