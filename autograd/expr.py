"""Safe arithmetic expressions over Values, such as ``tanh(w*x + b)``.

The text is parsed with ``ast`` and checked against a whitelist: numbers,
variable names, ``+ - * / **``, unary ``-``/``+``, and calls by name of the op
table's functions (``ops.FUNCTIONS``), each with as many arguments as its row's
arity says: ``tanh(x)`` (with an optional number where the row has a parameter,
``elu(x, 0.5)``), ``hypot(x, y)``, ``max(x, y, ...)``.
Nothing is ever evaluated by Python: the checked tree is turned into a postfix
program that only calls ``Value`` arithmetic. Anything else -- attributes,
subscripts, lambdas, ``__import__``, unknown names, absurd length or nesting --
raises ``ExpressionError``, whose message names the problem and whose
``pointer()`` underlines the offending part. That is the only exception ``parse``
raises, whatever the text.
"""

from __future__ import annotations

import ast
import keyword
import math
import operator
import unicodedata
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Union

from . import core
from .core import Value, ops

__all__ = ["FUNCTIONS", "PARAMETERS", "Expression", "ExpressionError", "parse", "parse_assignment"]

MAX_LENGTH = 1000  # characters; checked before ast.parse, which can exhaust the stack on hostile input
MAX_NESTING = 50  # bracket depth, also checked before ast.parse

Number = Union[int, float]
Operand = Union[Value, float]


# The functions come from the op table (``ops.FUNCTIONS``), and how many arguments each takes
# from its row's arity. A unary function is the Value method of its name; a binary or n-ary one
# the engine function of its name (``autograd.hypot``, ``autograd.max``), which takes plain numbers
# on any side. A row without one is a bug in the engine, reported at import rather than silently
# left out of the language.
def _callables(table: Mapping[str, ops.Op]) -> dict[str, Callable[..., Value]]:
    found = {name: getattr(Value if op.arity == 1 else core, name, None) for name, op in sorted(table.items())}
    missing = sorted(name for name, function in found.items() if not callable(function))
    if missing:
        raise LookupError(f"op table rows without a Value method or engine function of the same name: {missing}")
    return found  # type: ignore[return-value]


_CALLABLES = _callables(ops.FUNCTIONS)
_ARITY: dict[str, int | None] = {name: op.arity for name, op in ops.FUNCTIONS.items()}
#: Parameter name of each function that takes one (read from the op table's ``param``).
PARAMETERS: dict[str, str] = {name: op.param for name, op in sorted(ops.FUNCTIONS.items()) if op.param is not None}
FUNCTIONS: tuple[str, ...] = tuple(_CALLABLES)

_BINARY_OPS: dict[type[ast.operator], Callable[[Operand, Operand], Operand]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a**b,
}
_OPERATOR_HINTS: dict[type[ast.AST], str] = {
    ast.FloorDiv: "'//' is not supported: use '/'",
    ast.Mod: "'%' is not supported",
    ast.MatMult: "'@' is not supported: write '*'",
    ast.BitXor: "'^' is not a power here: write '**'",
    ast.BitAnd: "'&' is not supported",
    ast.BitOr: "'|' is not supported",
    ast.LShift: "'<<' is not supported",
    ast.RShift: "'>>' is not supported",
    ast.Invert: "'~' is not supported",
    ast.Not: "'not' is not supported",
}
_NODE_HINTS: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access is not allowed",
    ast.Subscript: "subscripts are not allowed",
    ast.Lambda: "lambdas are not allowed",
    ast.Compare: "comparisons are not allowed",
    ast.BoolOp: "'and'/'or' are not allowed",
    ast.IfExp: "conditional expressions are not allowed",
    ast.NamedExpr: "assignments are not allowed",
    ast.Starred: "'*' unpacking is not allowed",
    ast.Tuple: "tuples are not allowed: one expression, please",
    ast.List: "lists are not allowed",
    ast.Dict: "dicts are not allowed",
    ast.Set: "sets are not allowed",
    ast.JoinedStr: "strings are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "comprehensions are not allowed",
    ast.Await: "'await' is not allowed",
    ast.Yield: "'yield' is not allowed",
    ast.YieldFrom: "'yield' is not allowed",
    ast.Slice: "slices are not allowed",
}
_WHAT_IS_ALLOWED = "use numbers, variable names, + - * / **, and calls like tanh(x)"


class ExpressionError(ValueError):
    """An expression (or a ``name=value`` assignment) that is not accepted.

    ``str(error)`` is one line; ``start``/``end`` are the 0-based character span
    of the offending part of ``text`` (None if the whole text is at fault), and
    ``pointer()`` shows the text with that span underlined.
    """

    def __init__(self, message: str, text: str, start: int | None = None, end: int | None = None) -> None:
        if start is not None:
            start = min(max(start, 0), len(text))
            end = start + 1 if end is None or end <= start else min(end, max(len(text), start + 1))
        self.message = message
        self.text = text
        self.start = start
        self.end = end
        where = f" (column {start + 1})" if start is not None else ""
        super().__init__(message + where)

    def shifted(self, offset: int, text: str) -> ExpressionError:
        """The same error, located in a longer ``text`` in which the original starts at ``offset``."""
        start = None if self.start is None else self.start + offset
        end = None if self.end is None else self.end + offset
        return ExpressionError(self.message, text, start, end)

    def pointer(self, indent: str = "  ") -> str:
        """Two lines: the text (control characters shown as '?') and carets under the offending part."""
        shown = "".join("?" if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in self.text)
        if self.start is None or self.end is None:
            return indent + shown
        return f"{indent}{shown}\n{indent}{' ' * self.start}{'^' * (self.end - self.start)}"


@dataclass(frozen=True)
class _Instruction:
    """One step of the postfix program: push a number or variable, or apply an operation."""

    kind: str  # "number", "variable", "binary", "negate", "unary", "unary_with_parameter", "pair", "nary"
    value: float = 0.0
    name: str = ""
    binary: type[ast.operator] | None = None
    count: int = 0


class Expression:
    """A checked expression. ``variables`` lists its names in order of first appearance."""

    def __init__(self, text: str, program: tuple[_Instruction, ...], spans: dict[str, tuple[int, int]]) -> None:
        self.text = text
        self._program = program
        self.variable_spans = spans  # first occurrence of each variable, for error messages
        self.variables: tuple[str, ...] = tuple(spans)

    def __repr__(self) -> str:
        return f"Expression({self.text!r})"

    def evaluate(self, values: Mapping[str, Value | Number]) -> Value | float:
        """The expression's value with each variable bound to a Value or a number.

        A missing variable raises ``ExpressionError`` pointing at it. Operations on
        plain numbers go through ``Value`` too, so they follow its IEEE 754
        semantics (``1/0`` is ``inf``, never an exception).
        """
        for name in self.variables:
            if name not in values:
                start, end = self.variable_spans[name]
                raise ExpressionError(f"no value for {name!r}: give it one, e.g. {name}=1.5", self.text, start, end)
            bound = values[name]
            if not isinstance(bound, Value) and _to_float(bound) is None:
                raise TypeError(f"the value of {name!r} must be a Value or a real number, got {type(bound).__name__}")
        stack: list[Operand] = []
        for step in self._program:
            kind = step.kind
            if kind == "number":
                stack.append(step.value)
            elif kind == "variable":
                bound = values[step.name]
                stack.append(bound if isinstance(bound, Value) else _to_float(bound))  # type: ignore[arg-type]
            elif kind == "binary":
                right, left = stack.pop(), stack.pop()
                stack.append(_apply(_BINARY_OPS[step.binary], left, right))  # type: ignore[index]
            elif kind == "negate":
                stack.append(_apply(operator.neg, stack.pop()))
            elif kind == "unary":
                stack.append(_apply(_CALLABLES[step.name], stack.pop()))
            elif kind == "unary_with_parameter":
                parameter = _plain(stack.pop())
                stack.append(_apply(_CALLABLES[step.name], stack.pop(), parameter))
            elif kind == "pair":  # a binary function: hypot(x, y)
                right, left = stack.pop(), stack.pop()
                stack.append(_apply(_CALLABLES[step.name], left, right))
            else:  # "nary"
                arguments = stack[-step.count :]
                del stack[-step.count :]
                combined = _CALLABLES[step.name](arguments)
                stack.append(combined if any(isinstance(a, Value) for a in arguments) else combined.data)
        (result,) = stack
        return result


def _plain(x: Operand) -> float:
    return x.data if isinstance(x, Value) else x


def _apply(operation: Callable[..., Operand], first: Operand, *rest: Operand) -> Operand:
    """Apply ``operation``; if all operands are numbers, compute it on a Value and return the float.

    That gives constants exactly the semantics of the engine (IEEE 754, no Python
    exceptions) while a Value operand keeps its graph, with constants folded in.
    """
    if isinstance(first, Value) or any(isinstance(r, Value) for r in rest):
        return operation(first, *rest)
    result = operation(Value(first), *rest)
    return result.data if isinstance(result, Value) else float(result)


def _to_float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        return float(value)
    except OverflowError:  # an integer literal beyond the float range
        return math.inf


class _Locator:
    """Turns ``ast`` byte columns into character columns of the original text."""

    def __init__(self, text: str, shift: int) -> None:
        self.text = text
        self.shift = shift  # leading whitespace removed before parsing
        self.parsed = text[shift:]
        self.encoded = self.parsed.encode("utf-8")

    def column(self, byte_offset: int | None) -> int | None:
        if byte_offset is None:
            return None
        return self.shift + len(self.encoded[:byte_offset].decode("utf-8", "ignore"))

    def span(self, node: ast.AST) -> tuple[int | None, int | None]:
        start = self.column(getattr(node, "col_offset", None))
        end = self.column(getattr(node, "end_col_offset", None))
        return start, end

    def error(self, message: str, node: ast.AST) -> ExpressionError:
        start, end = self.span(node)
        return ExpressionError(message, self.text, start, end)


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise ExpressionError(f"an expression must be text, got {type(text).__name__}", repr(text))
    if not text.strip():
        raise ExpressionError("the expression is empty: write one, e.g. tanh(w*x + b)", text)
    if len(text) > MAX_LENGTH:
        raise ExpressionError(
            f"the expression is {len(text)} characters long; the limit is {MAX_LENGTH}", text[:MAX_LENGTH], MAX_LENGTH
        )
    depth = 0
    for i, ch in enumerate(text):
        category = unicodedata.category(ch)
        if category in ("Cc", "Cs") or ch in "\u2028\u2029":
            raise ExpressionError(f"control character U+{ord(ch):04X} is not allowed", text, i)
        if ch in "([{":
            depth += 1
            if depth > MAX_NESTING:
                raise ExpressionError(f"brackets are nested more than {MAX_NESTING} deep", text, i)
        elif ch in ")]}":
            depth -= 1
    return text


def _syntax_error(error: SyntaxError, text: str, shift: int) -> ExpressionError:
    message = (error.msg or "invalid syntax").strip()
    offset = error.offset or 0
    start = shift + offset - 1 if offset >= 1 else len(text)
    end_offset = getattr(error, "end_offset", None) or 0
    end = shift + end_offset - 1 if end_offset > offset else None
    return ExpressionError(f"syntax error: {message}", text, start, end)


def parse(text: str) -> Expression:
    """Check ``text`` and return an ``Expression``; anything not allowed raises ``ExpressionError``."""
    text = _check_text(text)
    stripped = text.lstrip()
    shift = len(text) - len(stripped)
    try:
        with warnings.catch_warnings():  # "1if x" warns on stderr before we refuse it: one message, ours
            warnings.simplefilter("ignore")
            tree = ast.parse(stripped, mode="eval")
    except SyntaxError as error:
        raise _syntax_error(error, text, shift) from None
    except (RecursionError, MemoryError):
        raise ExpressionError("the expression is nested too deeply to parse", text) from None
    except ValueError as error:  # e.g. a literal Python refuses to convert
        raise ExpressionError(f"cannot parse: {error}", text) from None
    return _compile(tree.body, _Locator(text, shift))


def _compile(root: ast.expr, where: _Locator) -> Expression:
    """Check the tree against the whitelist and flatten it into a postfix program, without recursion."""
    program: list[_Instruction] = []
    spans: dict[str, tuple[int, int]] = {}
    stack: list[tuple[ast.AST, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if isinstance(node, ast.Constant):
            number = _to_float(node.value)
            if number is None:
                kind = type(node.value).__name__
                raise where.error(f"only real numbers are allowed, not {kind} {node.value!r}"[:200], node)
            program.append(_Instruction("number", value=number))
        elif isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                raise where.error(f"{node.id!r} is a function: call it, e.g. {node.id}(x)", node)
            if node.id not in spans:
                start, end = where.span(node)
                spans[node.id] = (start or 0, end or (start or 0) + len(node.id))
            program.append(_Instruction("variable", name=node.id))
        elif isinstance(node, ast.BinOp):
            if type(node.op) not in _BINARY_OPS:
                hint = _OPERATOR_HINTS.get(type(node.op), "this operator is not supported")
                raise where.error(hint, node)
            if children_done:
                program.append(_Instruction("binary", binary=type(node.op)))
            else:
                stack += [(node, True), (node.right, False), (node.left, False)]
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                raise where.error(_OPERATOR_HINTS.get(type(node.op), "this operator is not supported"), node)
            if children_done:
                if isinstance(node.op, ast.USub):
                    program.append(_Instruction("negate"))
            else:
                stack += [(node, True), (node.operand, False)]
        elif isinstance(node, ast.Call):
            if children_done:
                program.append(_call_instruction(node))
            else:
                arguments = _check_call(node, where)
                stack.append((node, True))
                stack.extend((argument, False) for argument in reversed(arguments))
        else:
            hint = _NODE_HINTS.get(type(node), f"{type(node).__name__} is not allowed")
            raise where.error(f"{hint}; {_WHAT_IS_ALLOWED}", node)
    return Expression(where.text, tuple(program), spans)


def _check_call(node: ast.Call, where: _Locator) -> list[ast.expr]:
    """The call's arguments in order, after checking it calls an allowed function correctly."""
    if not isinstance(node.func, ast.Name):
        hint = _NODE_HINTS.get(type(node.func), "only functions called by name are allowed")
        raise where.error(f"{hint}; {_WHAT_IS_ALLOWED}", node.func)
    name = node.func.id
    if name not in FUNCTIONS:
        raise where.error(f"unknown function {name!r}; the functions are {', '.join(FUNCTIONS)}", node.func)
    arguments: list[ast.expr] = list(node.args)
    for argument in arguments:
        if isinstance(argument, ast.Starred):
            raise where.error("'*' unpacking is not allowed", argument)
    arity = _ARITY[name]
    if arity != 1:
        if node.keywords:
            raise where.error(f"{name}() takes no keyword arguments", node.keywords[0])
        if arity is None and not arguments:
            raise where.error(f"{name}() needs at least one argument", node)
        if arity is not None and len(arguments) != arity:
            raise where.error(f"{name}() takes {arity} arguments: {name}(x, y)", node)
        return arguments
    param = PARAMETERS.get(name)
    limit = 1 if param is None else 2
    usage = f"{name}(x)" if param is None else f"{name}(x) or {name}(x, {param})"
    for named in node.keywords:
        if param is not None and named.arg == param and len(arguments) == 1:
            arguments.append(named.value)
        else:
            raise where.error(f"unexpected keyword argument; use {usage}", named)
    if not 1 <= len(arguments) <= limit:
        raise where.error(f"{name}() takes {'1 or 2 arguments' if limit == 2 else '1 argument'}: {usage}", node)
    if len(arguments) == 2:
        for inner in ast.walk(arguments[1]):
            if isinstance(inner, ast.Name):
                raise where.error(f"the {param} of {name}() must be a number, not depend on {inner.id!r}", inner)
    return arguments


def _call_instruction(node: ast.Call) -> _Instruction:
    name = node.func.id  # type: ignore[attr-defined]  # checked in _check_call
    count = len(node.args) + len(node.keywords)
    arity = _ARITY[name]
    if arity is None:
        return _Instruction("nary", name=name, count=count)
    if arity == 2:
        return _Instruction("pair", name=name)
    return _Instruction("unary_with_parameter" if count == 2 else "unary", name=name)


def _normalized_identifier(name: str) -> str:
    """What Python makes of the identifier (NFKC), so ``ﬁ=2`` binds the same name as ``fi`` in an expression."""
    return unicodedata.normalize("NFKC", name)


def parse_assignment(text: str) -> tuple[str, float]:
    """Parse ``name=value`` (the value may be a constant expression such as ``-3`` or ``1/4``).

    Errors are ``ExpressionError`` located in ``text``.
    """
    if not isinstance(text, str):
        raise ExpressionError(f"an assignment must be text, got {type(text).__name__}", repr(text))
    if "=" not in text:
        raise ExpressionError(f"expected name=value, e.g. x=2, got {text[:60]!r}", text)
    raw_name, _, raw_value = text.partition("=")
    name = raw_name.strip()
    name_start = len(raw_name) - len(raw_name.lstrip())
    if not name:
        raise ExpressionError("the name before '=' is missing, e.g. x=2", text, 0)
    normalized = _normalized_identifier(name)
    if not normalized.isidentifier() or keyword.iskeyword(normalized):
        raise ExpressionError(f"{name[:60]!r} is not a variable name", text, name_start, name_start + len(name))
    if normalized in FUNCTIONS:
        raise ExpressionError(
            f"{name!r} is a function and cannot be a variable", text, name_start, name_start + len(name)
        )
    value_offset = len(raw_name) + 1
    if not raw_value.strip():
        raise ExpressionError(f"no value after '{name}=': write e.g. {name}=2", text, value_offset)
    try:
        constant = parse(raw_value)
    except ExpressionError as error:
        raise error.shifted(value_offset, text) from None
    if constant.variables:
        other = constant.variables[0]
        start, end = constant.variable_spans[other]
        message = f"the value of {name} must be a number, and {other!r} is a name"
        raise ExpressionError(message, text, value_offset + start, value_offset + end)
    result = constant.evaluate({})
    return normalized, float(result.data if isinstance(result, Value) else result)
