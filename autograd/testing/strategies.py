"""Hypothesis strategies for testing gradients: numbers, Values, random expression DAGs, MLPs.

Importing this module imports hypothesis (``import autograd`` alone does not).

* :func:`finite_floats` and :func:`values` -- inputs;
* :func:`op_inputs` -- inputs (and constants) for one row of the op table, away from its kinks;
* :func:`expressions` -- random expression DAGs with shared subexpressions (true fan-out),
  each an :class:`Expression` you can call on floats or on Values, with a lazily built SymPy twin;
* :func:`mlps` -- small multilayer perceptrons written directly in ``autograd`` (no ``nn`` needed);
* :func:`derivative_test` -- turn one function and its known derivative into a ready property test.

>>> from hypothesis import given
>>> from valuegrad.autograd import gradcheck
>>> from valuegrad.autograd.testing import strategies as vst
>>> @given(vst.expressions(max_ops=4))
... def test_engine_matches_finite_differences(expr):
...     assert gradcheck(expr, *expr.inputs)
>>> test_engine_matches_finite_differences()
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence, Union

from hypothesis import assume, given
from hypothesis import strategies as st

from ... import autograd
from ..core import Value
from .optable import ROWS, Interval, OpRow
from .symbolic import SympyTwin, _sympy

__all__ = [
    "Expression",
    "MLPCase",
    "Step",
    "derivative_test",
    "expressions",
    "finite_floats",
    "mlps",
    "op_inputs",
    "valid_step",
    "values",
]

Bounds = Union[tuple[float, float], Sequence[tuple[float, float]]]


def _check_bounds(lo: float, hi: float, who: str) -> None:
    for name, v in (("lo", lo), ("hi", hi)):
        if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
            raise ValueError(f"{who}: {name} must be a finite number, got {v!r}")
    if lo > hi:
        raise ValueError(f"{who}: lo={lo} is greater than hi={hi}")


def finite_floats(lo: float = -1e3, hi: float = 1e3) -> st.SearchStrategy[float]:
    """Finite float64s in ``[lo, hi]``: no nan, no inf, no subnormals (they only measure rounding).

    >>> from hypothesis import find
    >>> find(finite_floats(-1.0, 1.0), lambda x: x > 0.5)  # the simplest float that qualifies
    1.0
    """
    _check_bounds(lo, hi, "finite_floats")
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, allow_subnormal=False)


def values(lo: float = -1e3, hi: float = 1e3, label: str | None = None) -> st.SearchStrategy[Value]:
    """Leaf ``Value`` s with data from :func:`finite_floats` ``(lo, hi)``.

    >>> from hypothesis import find
    >>> find(values(0.0, 1.0, label="w"), lambda v: v.data > 0.5)
    Value(data=1.0, grad=0.0, label='w')
    """
    return finite_floats(lo, hi).map(lambda x: Value(x, label=label))


def _interval(interval: Interval) -> st.SearchStrategy[float]:
    if interval.integer:
        return st.integers(math.ceil(interval.lo), math.floor(interval.hi)).map(float)
    return finite_floats(interval.lo, interval.hi)


def op_inputs(
    row: OpRow, avoid_kinks: bool = True, margin: float = 1e-2
) -> st.SearchStrategy[tuple[tuple[float, ...], tuple[float, ...]]]:
    """``(inputs, constants)`` for one op-table row, drawn from its domain.

    With ``avoid_kinks`` (the default) points within ``margin`` of a kink or pole
    are rejected, so finite differences and symbolic derivatives are meaningful.
    """
    drawn = st.tuples(st.tuples(*map(_interval, row.domain)), st.tuples(*map(_interval, row.constants)))
    if not avoid_kinks:
        return drawn
    return drawn.filter(lambda ic: row.kink_distance(*ic[0], *ic[1]) > margin)


# ------------------------------------------------------------------ expressions


@dataclass(frozen=True)
class Step:
    """One node of an expression: ``row`` applied to earlier nodes ``args`` with ``constants``."""

    row: OpRow
    args: tuple[int, ...]
    constants: tuple[float, ...]


@dataclass(frozen=True)
class Expression:
    """A random expression DAG, callable on floats (the math reference) or on Values (the engine).

    Nodes ``0 .. n_inputs-1`` are the inputs; node ``n_inputs + k`` is ``steps[k]``
    applied to earlier nodes. Nodes may be used many times (fan-out). The output is
    the sum of ``outputs`` (every node nothing else uses), so every node matters.
    ``inputs`` is the point the expression was drawn at: every op's argument there
    lies inside the op's domain and away from its kinks.
    """

    inputs: tuple[float, ...]
    steps: tuple[Step, ...]
    outputs: tuple[int, ...]
    _twin: list[SympyTwin] = field(default_factory=list, repr=False, compare=False)

    @property
    def n_inputs(self) -> int:
        return len(self.inputs)

    def uses(self) -> list[int]:
        """How many times each node is read (by steps and by the final sum)."""
        counts = [0] * (self.n_inputs + len(self.steps))
        for step in self.steps:
            for a in step.args:
                counts[a] += 1
        for o in self.outputs:
            counts[o] += 1
        return counts

    @property
    def has_fan_out(self) -> bool:
        """True if some node feeds two or more places, so its adjoint is a real sum."""
        return any(u >= 2 for u in self.uses())

    def _run(
        self, xs: Sequence[Any], call: Callable[[OpRow], Callable[..., Any]], total: Callable[[list[Any]], Any]
    ) -> Any:
        if len(xs) != self.n_inputs:
            raise TypeError(f"this expression takes {self.n_inputs} inputs, got {len(xs)}")
        nodes = list(xs)
        for step in self.steps:
            nodes.append(call(step.row)(*(nodes[a] for a in step.args), *step.constants))
        parts = [nodes[o] for o in self.outputs]
        return parts[0] if len(parts) == 1 else total(parts)

    def on_values(self, *xs: Value) -> Value:
        """Evaluate with the engine: build the graph."""
        return self._run(xs, lambda r: r.on_values, autograd.sum)  # type: ignore[no-any-return]

    def on_floats(self, *xs: float) -> float:
        """Evaluate with the independent float reference of every op (``math``)."""
        return float(self._run(xs, lambda r: r.on_floats, math.fsum))

    def __call__(self, *xs: Any) -> Any:
        """On Values if any argument is a Value (floats are then made leaves), else on floats."""
        if any(isinstance(x, Value) for x in xs):
            return self.on_values(*(x if isinstance(x, Value) else Value(x) for x in xs))
        return self.on_floats(*xs)

    def sympy(self) -> SympyTwin:
        """The SymPy twin in symbols ``x0, x1, ...`` (built on first use, then cached).

        Shared nodes are shared SymPy subtrees, so the twin computes the same function.
        """
        if not self._twin:
            sp = _sympy()
            nodes: list[Any] = [sp.Symbol(f"x{i}", real=True) for i in range(self.n_inputs)]
            for step in self.steps:
                constants = [sp.Float(c) for c in step.constants]
                nodes.append(step.row.sympy(sp, *(nodes[a] for a in step.args), *constants))
            self._twin.append(SympyTwin(sp.Add(*(nodes[o] for o in self.outputs)), nodes[: self.n_inputs]))
        return self._twin[0]

    def program(self) -> str:
        """The expression as straight-line code, one node a line."""
        names = [f"x{i}" for i in range(self.n_inputs)]
        lines = [f"x{i} = {x!r}" for i, x in enumerate(self.inputs)]
        for k, step in enumerate(self.steps):
            names.append(f"t{self.n_inputs + k}")
            lines.append(f"{names[-1]} = {step.row.format([names[a] for a in step.args], list(step.constants))}")
        lines.append("out = " + " + ".join(names[o] for o in self.outputs))
        return "\n".join(lines)

    def __repr__(self) -> str:
        body = self.program().replace("\n", "; ")
        return f"Expression({body})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        """How hypothesis (and IPython) show it in a failing example: the program, not the fields."""
        printer.text(repr(self))


_EXPRESSION_ROWS = tuple(r for r in ROWS if r.arity <= 3)


def valid_step(
    row: OpRow, args: Sequence[float], constants: Sequence[float], margin: float = 1e-2, bound: float = 1e3
) -> bool:
    """True if ``row`` may be applied to argument values ``args``: inside its domain, more than
    ``margin`` from its kinks, with a finite result of magnitude at most ``bound``.

    >>> from valuegrad.autograd.testing.optable import row
    >>> valid_step(row("x.log()"), [2.0], []), valid_step(row("x.log()"), [-2.0], [])
    (True, False)
    """
    if not all(lo_hi.lo <= a <= lo_hi.hi for a, lo_hi in zip(args, row.domain)):
        return False
    if row.kink_distance(*args, *constants) <= margin:
        return False
    try:
        result = row.on_floats(*args, *constants)
    except (ArithmeticError, ValueError):
        return False
    return math.isfinite(result) and abs(result) <= bound


@st.composite
def expressions(
    draw: st.DrawFn,
    n_inputs: int | tuple[int, int] = (1, 3),
    max_ops: int = 6,
    ops: Sequence[str] | None = None,
    input_range: tuple[float, float] = (-2.0, 2.0),
    avoid_kinks: bool = True,
    margin: float = 1e-2,
    bound: float = 1e3,
    fan_out: bool = True,
) -> Expression:
    """Random expression DAGs over the op table, with their inputs.

    Each of up to ``max_ops`` steps picks a row of :data:`autograd.testing.optable.ROWS`
    (or only the rows named in ``ops``) and any earlier nodes as its arguments, so
    subexpressions are shared. A step is kept only if, at the drawn inputs, its
    arguments lie in the row's domain, at least ``margin`` from its kinks (unless
    ``avoid_kinks=False``), and its result is finite with magnitude <= ``bound``;
    otherwise it becomes a negation, which is always valid. With ``fan_out`` (the
    default) every expression has at least one node used twice.

    >>> from hypothesis import given
    >>> @given(expressions(n_inputs=2, ops=["x * y", "x.sin()"]))
    ... def test(expr):
    ...     assert expr.n_inputs == 2 and expr.has_fan_out
    ...     assert abs(expr(*expr.inputs) - expr(*map(Value, expr.inputs)).data) < 1e-9
    >>> test()
    """
    lo_n, hi_n = (n_inputs, n_inputs) if isinstance(n_inputs, int) else n_inputs
    if not 1 <= lo_n <= hi_n:
        raise ValueError(f"expressions: n_inputs must be >= 1 (or a (lo, hi) range), got {n_inputs!r}")
    if max_ops < 1:
        raise ValueError(f"expressions: max_ops must be >= 1, got {max_ops}")
    rows = _EXPRESSION_ROWS
    if ops is not None:
        by_name = {r.name: r for r in ROWS}
        unknown = [name for name in ops if name not in by_name]
        if unknown or not ops:
            raise ValueError(f"expressions: unknown op rows {unknown}; choose from {sorted(by_name)}")
        rows = tuple(by_name[name] for name in ops)
    _check_bounds(*input_range, "expressions(input_range)")
    kink_margin = margin if avoid_kinks else -math.inf

    inputs = tuple(draw(finite_floats(*input_range)) for _ in range(draw(st.integers(lo_n, hi_n))))
    data: list[float] = list(inputs)
    steps: list[Step] = []
    used: set[int] = set()
    negation = next(r for r in ROWS if r.name == "-x")
    for _ in range(draw(st.integers(1, max_ops))):
        row = draw(st.sampled_from(rows))
        # Counting back from the newest node: shrinks toward chains, which read easily.
        args = tuple(len(data) - 1 - draw(st.integers(0, len(data) - 1)) for _ in range(row.arity))
        constants = tuple(draw(_interval(c)) for c in row.constants)
        if not valid_step(row, [data[a] for a in args], constants, kink_margin, bound):
            row, args, constants = negation, (len(data) - 1,), ()
        steps.append(Step(row, args, constants))
        used.update(args)
        data.append(row.on_floats(*(data[a] for a in args), *constants))
    outputs = [i for i in range(len(data)) if i not in used]
    expr = Expression(inputs, tuple(steps), tuple(outputs))
    if fan_out and not expr.has_fan_out:
        # Also send the last step's first argument straight to the output: a second use.
        expr = Expression(inputs, tuple(steps), (*outputs, steps[-1].args[0]))
    return expr


# ------------------------------------------------------------------------ MLPs


@dataclass(frozen=True)
class MLPCase:
    """A small tanh MLP written with ``autograd`` alone, as a function of its parameters.

    ``params`` is flat: for each layer, for each neuron, its weights then its bias.
    Calling the case on the parameters (Values or floats) returns the sum of the
    network's outputs on the fixed ``inputs`` -- a scalar, so
    ``gradcheck(case, *case.params)`` checks every weight's gradient. Hidden layers
    use tanh (smooth, so finite differences are valid); the last layer is linear.
    """

    nin: int
    sizes: tuple[int, ...]
    params: tuple[float, ...]
    inputs: tuple[float, ...]

    @property
    def n_params(self) -> int:
        return _n_params(self.nin, self.sizes)

    def forward(self, params: Sequence[Any], inputs: Sequence[Any]) -> list[Any]:
        """The network's outputs for ``inputs`` with parameters ``params`` (flat, as ``self.params``)."""
        if len(params) != self.n_params:
            raise ValueError(f"this MLP has {self.n_params} parameters, got {len(params)}")
        activations = list(inputs)
        k = 0
        for depth, size in enumerate(self.sizes):
            layer = []
            for _ in range(size):
                weights, bias = params[k : k + len(activations)], params[k + len(activations)]
                k += len(activations) + 1
                z = autograd.dot(weights, activations, bias)
                layer.append(z.tanh() if depth < len(self.sizes) - 1 else z)
            activations = layer
        return activations

    def __call__(self, *params: Any) -> Value:
        leaves = [p if isinstance(p, Value) else Value(p) for p in params]
        return autograd.sum(self.forward(leaves, self.inputs))


def _n_params(nin: int, sizes: Sequence[int]) -> int:
    fan_ins = [nin, *sizes[:-1]]
    return sum((fan_in + 1) * size for fan_in, size in zip(fan_ins, sizes))


def mlps(
    nin: int,
    sizes: Sequence[int],
    weight_range: tuple[float, float] = (-1.0, 1.0),
    input_range: tuple[float, float] = (-2.0, 2.0),
) -> st.SearchStrategy[MLPCase]:
    """:class:`MLPCase` s with ``nin`` inputs and layer sizes ``sizes`` (the last is the output).

    Built from ``autograd`` only (``dot`` + ``tanh``), so it tests the engine without
    depending on ``nn``; use it to gradcheck a whole network's parameters at once.

    >>> from hypothesis import given, settings
    >>> from valuegrad.autograd import gradcheck
    >>> @settings(max_examples=5)
    ... @given(mlps(2, [3, 1]))
    ... def test(mlp):
    ...     assert gradcheck(mlp, *mlp.params)
    >>> test()
    """
    if not isinstance(nin, int) or nin < 1 or not sizes or any(not isinstance(s, int) or s < 1 for s in sizes):
        raise ValueError(f"mlps: nin and every size must be positive ints, got nin={nin!r}, sizes={sizes!r}")
    _check_bounds(*weight_range, "mlps(weight_range)")
    _check_bounds(*input_range, "mlps(input_range)")
    n = _n_params(nin, sizes)
    return st.builds(
        MLPCase,
        st.just(nin),
        st.just(tuple(sizes)),
        st.tuples(*[finite_floats(*weight_range)] * n),
        st.tuples(*[finite_floats(*input_range)] * nin),
    )


# ------------------------------------------------------------- test factories


def _intervals(domain: Bounds) -> list[tuple[float, float]]:
    if len(domain) == 2 and all(isinstance(v, (int, float)) for v in domain):
        return [domain]  # type: ignore[list-item]
    return [(float(d[0]), float(d[1])) for d in domain]  # type: ignore[index]


def engine_partials(f: Callable[..., Value], xs: Sequence[float]) -> list[float]:
    """The engine's partial derivatives of ``f`` (a function of Values) at the floats ``xs``."""
    leaves = [Value(x) for x in xs]
    return list(autograd.gradients(f(*leaves), leaves))


def as_partials(reference: Any) -> list[Any]:
    """A derivative's answer as a list of partials: one number becomes a list of one."""
    return [reference] if isinstance(reference, (int, float)) else list(reference)


def derivative_test(
    f: Callable[..., Value],
    derivative: Callable[..., float | Sequence[float]],
    domain: Bounds = (-5.0, 5.0),
    kinks: Sequence[float] = (),
    margin: float = 1e-3,
    rel_tol: float = 1e-9,
    abs_tol: float = 1e-12,
) -> Callable[[], None]:
    """A ready hypothesis test: the engine's gradient of ``f`` equals ``derivative`` on ``domain``.

    ``f`` takes Values; ``derivative`` takes floats and returns the derivative
    (one input) or the tuple of partial derivatives (several inputs). ``domain`` is
    ``(lo, hi)`` for one input or a list of ``(lo, hi)``, one per input. Points
    within ``margin`` of a ``kink`` (in any input) are skipped. Assign the result
    to a ``test_...`` name and pytest collects it:

    >>> import math
    >>> test_tanh = derivative_test(lambda x: x.tanh(), lambda x: 1 - math.tanh(x) ** 2)
    >>> test_tanh()
    >>> test_wrong = derivative_test(lambda x: x.sin(), lambda x: -math.cos(x))
    >>> try:
    ...     test_wrong()
    ... except AssertionError as failure:  # Hypothesis attaches notes; the message comes first
    ...     print(str(failure).splitlines()[0])  # doctest: +ELLIPSIS
    d/dx[0] at ...: engine ..., reference ...
    """
    intervals = _intervals(domain)
    for lo, hi in intervals:
        _check_bounds(lo, hi, "derivative_test(domain)")
    if not callable(f) or not callable(derivative):
        raise TypeError("derivative_test(f, derivative, ...): both must be callables")

    @given(st.tuples(*(finite_floats(lo, hi) for lo, hi in intervals)))
    def test(xs: tuple[float, ...]) -> None:
        assume(all(abs(x - k) > margin for x in xs for k in kinks))
        engine = engine_partials(f, xs)
        expected = as_partials(derivative(*xs))
        if len(expected) != len(xs):
            raise TypeError(f"derivative returned {len(expected)} partials for {len(xs)} inputs")
        for i, (a, b) in enumerate(zip(engine, expected)):
            if not math.isclose(a, b, rel_tol=rel_tol, abs_tol=abs_tol):
                raise AssertionError(f"d/dx[{i}] at {xs}: engine {a!r}, reference {b!r}")

    test.__name__ = f"derivative_test_{getattr(f, '__name__', 'f')}"
    return test  # type: ignore[no-any-return]
