"""Write a traced graph out as one straight-line Python function: the Wengert list, then its adjoints.

Forward: one assignment per node, in topological order. A unary or binary row's ``forward``
is evaluated on placeholders (``_source.explore``), so ``x * y``, ``x + 0.5`` and relu's
``0.0 if x <= 0.0 else x`` are written inline; any row that calls a math function, and the
n-ary rows, are called as themselves (``_f3(x, None)``); a dot is written as the sum the engine
makes for it, in the layout of the eager call (``_nary_code``), and a sum over numbers of that
call adds them first, as the engine does. Backward: each row's ``partials`` rule is evaluated
with ``F = SourceMath`` and each term ``adjoint * partial`` is added into the parent's adjoint
in exactly the order the engine's reverse sweep adds it. The only identifiers
in the source are ones made here; constants are float reprs or names bound in the globals.
"""

from __future__ import annotations

import builtins
import collections
import keyword
import operator
import re
from dataclasses import dataclass, field
from typing import Any

from ..core import Value, ops
from ..core.ops import FloatMath, Op
from ..core.value import Traced
from .nary_code import SUM_IS_SEQUENTIAL, WRITTEN_OUT, dot_source, sum_source
from .seeded import NotLoopable, columns, seeded_source
from .source import (
    INF_NAME,
    NAN_NAME,
    Cond,
    NotSymbolic,
    SourceMath,
    Sym,
    component,
    explore,
    length,
    number,
    operand,
    render,
    times,
)
from .tracing import Guard

# How a row's forward is called, read from its arity (``ops.Op``): (x, c), (x, y) or (xs, c).
_KINDS = {1: "unary", 2: "binary", ops.NARY: "nary"}
# A label becomes a variable name only if it is this plain: letters and digits, no underscore
# (so it cannot collide with an adjoint's ``_bar`` or a bound ``_helper``), not one of ours.
_PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9]{0,30}")
_BUILTINS = frozenset(dir(builtins))
#: Names the writer makes: x inputs, p parameters, v values, t tuples, d, and seeded mode's a and c.
_OURS = re.compile(r"[xpvdtac]\d+")


class GuardFailed(Exception):
    """Raised by generated code when a traced comparison or read now comes out differently."""

    def __init__(self, index: int) -> None:
        super().__init__(index)
        self.index = index


@dataclass
class Tape:
    """What a trace recorded: the nodes in order and the role of every leaf."""

    output: Value
    aux: list[Value]  # further values the caller wants back (e.g. a model's outputs)
    order: list[Value]  # every node, inputs before outputs
    backward: list[Value]  # the output's interior nodes, in the engine's sweep order (reversed)
    inputs: list[Value]  # leaves fed from the call's arguments, in order
    wanted: list[int]  # which inputs get a gradient
    constants: dict[int, Value]  # leaves made during the trace: inlined as numbers
    guards: list[Guard]
    hints: dict[int, str] = field(default_factory=dict)  # id -> preferred variable name
    numbers: set[int] = field(default_factory=set)  # inputs the eager call passes as floats (``_nary_code``)
    sources: dict[int, Value] = field(default_factory=dict)  # id of a traced x.detach() -> x


@dataclass
class Generated:
    source: str
    globals: dict[str, Any]
    captured: list[Value]  # leaves read at call time (parameters the function closed over)
    # Seeded mode: per captured leaf, its term as (column, column) for a product or (column, None).
    plan: list[tuple[int, int | None]] = field(default_factory=list)


def _kind(op: Op) -> str:
    """``'unary'``, ``'binary'`` or ``'nary'``: the row's arity, as the writer needs it."""
    return _KINDS[op.arity]


class _Writer:
    def __init__(self, tape: Tape) -> None:
        self.tape = tape
        self.names: dict[int, str] = {}
        self.used: set[str] = set()
        self.globals: dict[str, Any] = {"_GuardFailed": GuardFailed, INF_NAME: float("inf"), NAN_NAME: float("nan")}
        self.globals.update(SourceMath.helpers(), _sum=sum, _mul=operator.mul)
        labels = collections.Counter(n.label for n in tape.order if n.label is not None)
        self.shared = {label for label, count in labels.items() if count > 1}
        self.lines: list[str] = []
        self.captured: list[Value] = []
        self.leaf_globals: dict[int, str] = {}
        self.bound: dict[tuple[str, int], str] = {}
        self.tuples: dict[str, str] = {}
        self.refs: dict[int, Any] = {}
        # Seeded mode: names that are the same for every example (the parameters, and tuples
        # made only of them), computed once per batch in ``shared`` rather than per example.
        self.invariant: list[str] = []
        self.shared_lines: list[str] = []
        self.plan: list[tuple[int, int | None]] = []
        self.columns: list[str] = []
        self.input_names: list[str] = []

    def name(self, node: Value, fallback: str) -> str:
        """The variable for ``node``: its label (or argument name) if plain and free, else ``fallback``."""
        hint = self.tape.hints.get(id(node), node.label)
        chosen = hint if hint is not None and self._usable(hint) else fallback
        self.used.add(chosen)
        self.names[id(node)] = chosen
        return chosen

    def _usable(self, hint: str) -> bool:
        # A label many nodes carry (every neuron's "w0") would name only one of them: skip it.
        plain = _PLAIN.fullmatch(hint) is not None and not keyword.iskeyword(hint)
        mine = _OURS.fullmatch(hint) or hint in _BUILTINS  # ``sum``, ``zip``: the generated code calls them
        return plain and hint not in self.shared and hint not in self.used and not mine

    def ref(self, node: Value) -> Any:
        """How an operand appears: a placeholder for a variable, a float for a constant leaf."""
        known = self.refs.get(id(node))
        if known is None:
            known = node.data if id(node) in self.tape.constants else Sym(self.names[id(node)], atomic=True)
            self.refs[id(node)] = known
        return known

    def bind(self, prefix: str, obj: Any) -> str:
        """A global name for ``obj`` (the same object keeps its name): ``_op_tanh``, ``_leaf3``."""
        key = (prefix, id(obj))
        if key not in self.bound:
            name = f"_{prefix}" if f"_{prefix}" not in self.globals else f"_{prefix}{len(self.globals)}"
            self.globals[name] = obj
            self.bound[key] = name
        return self.bound[key]

    def pack(self, items: list[str]) -> str:
        """A tuple of operands as one local, defined at its first use and shared after it.

        Every variable is assigned once, so a tuple stays valid for the rest of the function.
        """
        text = f"({', '.join(items)},)"
        if text not in self.tuples:
            name = self.tuples[text] = f"t{len(self.tuples)}"
            if self.invariant and all(item in self.invariant for item in items):
                self.invariant.append(name)
                self.shared_lines.append(f"{name} = {text}")
            else:
                self.lines.append(f"{name} = {text}")
        return self.tuples[text]

    def constant(self, c: Any) -> str:
        if c is None:
            return "None"
        if c.__class__ is float:
            return number(c)
        return self.bind("c", c)


def generate(tape: Tape, seeded: bool = False) -> Generated:
    """The tape as source: ``compiled(_inputs)`` returning ``(value, aux, input gradients)``.

    ``seeded=True`` writes instead one example's code looped over a batch (``seeded``):
    ``forward(_batch, _shared)``, then ``backward(_saved, _seeds, _shared, _grads)`` given the
    adjoint of each example's output; ``shared(_params)`` builds, once per batch, the
    parameters and the tuples made only of them. ``NotLoopable`` if a leaf has more than one
    term in an example or the trace has guards.
    """
    w = _Writer(tape)
    lines = w.lines
    inputs = w.input_names = [w.name(leaf, f"x{i}") for i, leaf in enumerate(tape.inputs)]
    if inputs:
        lines.append(f"{', '.join(inputs)}, = _inputs")
    for node in tape.order:
        # Captured: every Value made before the call (a parameter, or an intermediate such as
        # ``w * 3.0`` computed outside), read from its ``.data`` at each call as the eager call reads it.
        if type(node) is Traced or id(node) in tape.constants or id(node) in w.names:
            continue
        var = w.name(node, f"p{len(w.captured)}")
        w.leaf_globals[id(node)] = w.bind("leaf", node)
        if not seeded:
            lines.append(f"{var} = {w.leaf_globals[id(node)]}.data")
        w.captured.append(node)
    if seeded:
        if tape.guards or tape.aux or tape.wanted or tape.sources or not w.captured:
            raise NotLoopable("guards, aux values, input gradients, detach() or no parameters")
        if any(leaf._parents for leaf in w.captured):
            raise NotLoopable("a captured Value has parents")
        w.invariant = [w.names[id(leaf)] for leaf in w.captured]
    lines.append("# forward")
    made = (n for n in tape.order if type(n) is Traced and (n._parents or id(n) in tape.sources))
    for k, node in enumerate(made):
        var = w.name(node, f"v{k}")
        of = tape.sources.get(id(node))  # a detach() is its source's number, recomputed
        lines.append(f"{var} = {_forward(w, node) if of is None else render(w.ref(of))}")
    for i, guard in enumerate(tape.guards):
        test = _guard_test(w, guard)
        if test is not None:
            lines.append(f"if {test}: raise _GuardFailed({i})")
    results = _backward(w, seeded)
    out = render(w.ref(tape.output))
    body = "\n".join(f"    {line}" for line in lines)
    if seeded:
        output = w.names[id(tape.output)]
        return Generated(seeded_source(w, lines, f"{output}_bar = {output}"), w.globals, w.captured, w.plan)
    aux = "".join(f"{render(w.ref(v))}, " for v in tape.aux)
    source = f"def compiled(_inputs):\n{body}\n    return {out}, ({aux}), ({results})\n"
    return Generated(source, w.globals, w.captured)


def _operands(w: _Writer, node: Value) -> list[Any]:
    return [w.ref(p) for p in node._parents]


def _forward(w: _Writer, node: Value) -> str:
    op, ctx, xs = node._op, node._ctx, _operands(w, node)
    assert op is not None
    kind = _kind(op)
    numbers = [id(p) in w.tape.numbers for p in node._parents]
    if op is ops.DOT:
        inline = dot_source(w, ctx, xs, numbers)
        if inline is not None:
            return inline
    if op is ops.SUM and any(numbers):
        return sum_source(w.bind(f"op_{op.name}", op.forward), ctx, xs, numbers)
    if kind != "nary":
        try:
            return render(explore(lambda: op.apply(xs, ctx)))
        except NotSymbolic:
            pass
    call_args = f"[{', '.join(render(x) for x in xs)}]" if kind == "nary" else ", ".join(render(x) for x in xs)
    if kind != "binary":
        call_args += f", {w.constant(ctx)}"
    return f"{w.bind(f'op_{op.name}', op.forward)}({call_args})"


def _guard_test(w: _Writer, guard: Guard) -> str | None:
    """The condition under which the trace no longer holds, or None if it always holds."""
    left = w.ref(guard.left)
    if guard.kind == "==":
        if left.__class__ is not Sym:
            return None  # a constant reads the same every time
        value = guard.result
        return f"{left.text} == {left.text}" if value != value else f"{left.text} != {number(value)}"
    right = w.ref(guard.right) if guard.right.__class__ is Value else guard.right
    if left.__class__ is not Sym and right.__class__ is not Sym:
        return None
    test = f"{render(left)} {guard.kind} {render(right)}"
    return f"not ({test})" if guard.result else test


def _backward(w: _Writer, seeded: bool = False) -> str:
    """Write the reverse sweep; return the source of the tuple of wanted input gradients.

    Seeded (see ``generate``): the output's adjoint is the loop's (the line that seeds it marks
    where ``seeded_source`` cuts the example in two), and the result is what ``seeded.columns``
    makes of the captured leaves' terms.

    A node's adjoint is the sum of its children's terms, added in the order the engine's
    sweep adds them. The terms are collected as the sweep reaches each child and written as
    one statement just before the adjoint is first needed: written out up to ``WRITTEN_OUT``
    terms, and for more products (a weight's gradient over a batch) ``sum(map(mul, gs, ds), 0.0)``,
    which does the same additions, in the same order, in C (Python < 3.12, where ``sum``
    of floats adds left to right; 3.12's ``sum`` compensates, so there it stays a chain of ``+``).
    """
    tape, lines = w.tape, w.lines
    wanted = {id(tape.inputs[i]) for i in tape.wanted}
    needed: set[int] = set(wanted) | {id(leaf) for leaf in w.captured}
    for node in tape.order:
        if any(id(p) in needed for p in node._parents):
            needed.add(id(node))
    pending: dict[int, list[tuple[str, str, str | None]]] = {}
    adjoint: dict[int, str] = {}

    def settle(node: Value) -> str | None:
        key = id(node)
        if key not in adjoint and key in pending:
            adjoint[key] = f"{w.names[key]}_bar"
            lines.extend(_chunked(adjoint[key], _total(w, pending.pop(key))))
        return adjoint.get(key)

    if id(tape.output) in needed:
        lines.append("# backward")
        adjoint[id(tape.output)] = f"{w.names[id(tape.output)]}_bar"
        seed = w.names[id(tape.output)] if seeded else "1.0"  # seeded: a marker, where the loop is cut
        lines.append(f"{adjoint[id(tape.output)]} = {seed}")
    elif seeded:
        raise NotLoopable("the output does not depend on a parameter")
    for node in reversed(tape.backward):
        if id(node) not in needed:
            continue
        g = settle(node)
        assert g is not None
        for parent, term, factor in _terms(w, node, g):
            if id(parent) in needed:
                pending.setdefault(id(parent), []).append((term, g, factor))
    if seeded:
        return columns(w, [pending.get(id(leaf), []) for leaf in w.captured])
    for leaf in w.captured:
        g = settle(leaf)
        if g is not None:
            lines.append(f"{w.leaf_globals[id(leaf)]}.grad += {g}")
    return "".join(f"{settle(tape.inputs[i]) or '0.0'}, " for i in tape.wanted)


#: At most this many terms in one ``+`` chain: CPython's compiler recurses once per ``+`` of a chain
#: (a RecursionError near 3,000), so longer sums are continued in further statements.
CHAIN = 200


def _chunked(name: str, parts: list[str]) -> list[str]:
    """``name = p0 + p1 + ...`` as statements of at most ``CHAIN`` terms: the same additions, left to right."""
    lines = [f"{name} = {' + '.join(parts[:CHAIN])}"]
    for start in range(CHAIN, len(parts), CHAIN):
        lines.append(f"{name} = {name} + {' + '.join(parts[start : start + CHAIN])}")
    return lines


def _total(w: _Writer, terms: list[tuple[str, str, str | None]]) -> list[str]:
    """The sum of ``terms`` as the parts of a ``+`` chain; each ``(text, adjoint, factor)``, factor None if no product.

    Many products become ``sum(map(mul, gs, ds), start)`` over tuples the writer shares
    (every weight of a neuron reuses that neuron's tuple of adjoints over the batch). A
    leading run of terms from one child (a parameter used twice by ``dot(params, params)``)
    is added first and passed as ``start``, which keeps the additions in the engine's order.
    """
    lead = 1
    while lead < len(terms) and terms[lead][1] == terms[0][1]:
        lead += 1
    lead = 0 if lead == len(terms) else lead
    rest = terms[lead:]
    if len(rest) > WRITTEN_OUT and SUM_IS_SEQUENTIAL and all(factor is not None for _, _, factor in rest):
        adjoints = w.pack([g for _, g, _ in rest])
        factors = w.pack([str(factor) for _, _, factor in rest])
        start = " + ".join(_chain(terms[:lead])) if lead else "0.0"
        return [f"_sum(map(_mul, {adjoints}, {factors}), {start})"]
    return _chain(terms)


def _chain(terms: list[tuple[str, str, str | None]]) -> list[str]:
    if len(terms) == 1:
        return [terms[0][0]]
    return [text if " if " not in text else f"({text})" for text, _, _ in terms]


def _terms(w: _Writer, node: Value, g: str) -> list[tuple[Value, str, str | None]]:
    """``(parent, source of g * ∂node/∂parent, the partial if the term is a plain product)`` per parent."""
    op, ctx, parents = node._op, node._ctx, node._parents
    assert op is not None
    xs = _operands(w, node)
    args = xs if _kind(op) == "nary" else tuple(xs)
    out = w.ref(node)
    try:
        tree = explore(lambda: op.partials(SourceMath, args, out, ctx))
        if length(tree) != len(parents):
            raise NotSymbolic("the rule returned a different number of partials")
    except NotSymbolic:
        partials = f"d{len(w.lines)}"
        operands = ", ".join(render(x) for x in xs)
        rule = w.bind("rule", op.partials)
        w.lines.append(f"{partials} = {rule}(_FloatMath, [{operands}], {render(out)}, {w.constant(ctx)})")
        w.globals["_FloatMath"] = FloatMath
        return [(p, f"{g} * {partials}[{i}]", f"{partials}[{i}]") for i, p in enumerate(parents)]
    result = []
    for i, parent in enumerate(parents):
        partial = component(tree, i)
        product = partial.__class__ is Sym or (partial.__class__ is not Cond and abs(partial) != 1.0)
        result.append((parent, render(times(g, partial)), operand(partial) if product else None))
    return result
