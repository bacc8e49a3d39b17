"""Fuzzing the expression parser: random syntax trees and random token soup.

The oracle is the whitelist written out independently here (``allowed``): a tree is
accepted exactly when every node in it is allowed, and then it evaluates without an
exception; otherwise ``parse`` raises ``ExpressionError`` with a one-line message and a
pointer inside the text. An audit hook watches every parse and evaluation: nothing may
be executed, imported, opened or spawned.
"""

from __future__ import annotations

import ast
import keyword
import sys
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
from hypothesis import event, given, note
from hypothesis import strategies as st

from valuegrad.autograd import Value
from valuegrad.autograd.core import ops
from valuegrad.autograd.expr import FUNCTIONS, MAX_LENGTH, MAX_NESTING, Expression, ExpressionError, parse

# Which function takes how many arguments is the op table's word (each row's arity and param);
# the whitelist below restates only the rules.
NARY = frozenset(name for name, row in ops.FUNCTIONS.items() if row.arity is ops.NARY)
PAIRS = frozenset(name for name, row in ops.FUNCTIONS.items() if row.arity == 2)
WITH_PARAMETER = frozenset(name for name, row in ops.FUNCTIONS.items() if row.param == "alpha")
ALLOWED_BINARY = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
ALL_BINARY = (*ALLOWED_BINARY, ast.FloorDiv, ast.Mod, ast.MatMult, ast.BitXor, ast.BitAnd, ast.BitOr, ast.LShift)
ALL_UNARY = (ast.USub, ast.UAdd, ast.Not, ast.Invert)
HOSTILE_NAMES = ["__import__", "eval", "exec", "open", "getattr", "globals", "os", "sys", "breakpoint", "compile"]
VARIABLES = ["x", "y", "w", "b", "_", "x1", "é", "ﬁ"]

# ---------------------------------------------------------------- nothing runs

DANGEROUS_EVENTS = frozenset(
    {"exec", "import", "open", "os.system", "subprocess.Popen", "os.posix_spawn", "os.exec", "os.spawn", "os.fork"}
    | {"socket.connect", "ctypes.dlopen", "builtins.input", "code.__new__", "function.__new__"}
)
_watching: list[list[str]] = []


def _audit(event: str, arguments: tuple[object, ...]) -> None:
    if _watching and event in DANGEROUS_EVENTS:
        _watching[-1].append(event)


sys.addaudithook(_audit)  # hooks cannot be removed; this one only records while a test watches


@contextmanager
def nothing_may_run() -> Iterator[None]:
    """Fail if the block executes, imports, opens or spawns anything, or prints a warning."""
    events: list[str] = []
    _watching.append(events)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        _watching.pop()
    assert events == [], f"the parser triggered {events}"
    assert [str(w.message) for w in caught] == []  # e.g. Python's SyntaxWarning for "1if x"


# ---------------------------------------------------------------- random trees


def _name(identifier: str) -> ast.Name:
    return ast.Name(id=identifier, ctx=ast.Load())


NUMBERS = st.one_of(
    st.integers(0, 10**6),
    st.floats(0, 1e6, allow_nan=False),
    st.sampled_from([10**400, 1e308, 0.0]),
)
LEAVES = st.one_of(st.builds(ast.Constant, value=NUMBERS), st.builds(_name, st.sampled_from(VARIABLES)))
EMPTY_ARGUMENTS = ast.arguments(
    posonlyargs=[], args=[], vararg=None, kwonlyargs=[], kw_defaults=[], kwarg=None, defaults=[]
)
Child = Callable[[], ast.expr]


def _forbidden_operator(operator: type[ast.operator]) -> Callable[[Child], ast.expr]:
    return lambda child: ast.BinOp(child(), operator(), child())


def _forbidden_call(name: str) -> Callable[[Child], ast.expr]:
    return lambda child: ast.Call(_name(name), [child()], [])


# Every construct outside the whitelist, built around allowed subtrees (``child()``).
FORBIDDEN: dict[str, Callable[[Child], ast.expr]] = {
    **{f"operator {op.__name__}": _forbidden_operator(op) for op in ALL_BINARY if op not in ALLOWED_BINARY},
    "not": lambda child: ast.UnaryOp(ast.Not(), child()),
    "invert": lambda child: ast.UnaryOp(ast.Invert(), child()),
    **{f"call {name}": _forbidden_call(name) for name in HOSTILE_NAMES},
    "method call": lambda child: ast.Call(ast.Attribute(child(), "system", ast.Load()), [child()], []),
    "attribute": lambda child: ast.Attribute(child(), "__class__", ast.Load()),
    "subscript": lambda child: ast.Subscript(child(), child(), ast.Load()),
    "compare": lambda child: ast.Compare(child(), [ast.Lt()], [child()]),
    "and": lambda child: ast.BoolOp(ast.And(), [child(), child()]),
    "if-else": lambda child: ast.IfExp(child(), child(), child()),
    "lambda": lambda child: ast.Lambda(EMPTY_ARGUMENTS, child()),
    "tuple": lambda child: ast.Tuple([child(), child()], ast.Load()),
    "list": lambda child: ast.List([child()], ast.Load()),
    "set": lambda child: ast.Set([child()]),
    "dict": lambda child: ast.Dict([child()], [child()]),
    "walrus": lambda child: ast.NamedExpr(ast.Name("z", ast.Store()), child()),
    "starred argument": lambda child: ast.Call(_name("tanh"), [ast.Starred(child(), ast.Load())], []),
    "keyword argument": lambda child: ast.Call(_name("tanh"), [child()], [ast.keyword("x", child())]),
    "unpacked keywords": lambda child: ast.Call(_name("max"), [child()], [ast.keyword(None, child())]),
    "alpha from a variable": lambda child: ast.Call(_name("elu"), [child(), _name("x")], []),
    "too many arguments": lambda child: ast.Call(_name("exp"), [child(), child()], []),
    "no arguments": lambda child: ast.Call(_name("max"), [], []),
    "function as a value": lambda child: _name("tanh"),
    "string": lambda child: ast.Constant("1"),
    "bool": lambda child: ast.Constant(True),
    "None": lambda child: ast.Constant(None),
    "complex": lambda child: ast.Constant(2j),
    "bytes": lambda child: ast.Constant(b"1"),
    "ellipsis": lambda child: ast.Constant(...),
}


@st.composite
def allowed_trees(draw: st.DrawFn, max_depth: int = 4) -> ast.expr:
    """A random tree of allowed kinds of node: numbers, variables, + - * / **, unary -/+, and calls
    of the functions (mostly with the right number of arguments; the oracle judges the rest)."""

    def node(depth: int) -> ast.expr:
        if depth >= max_depth or draw(st.integers(0, 2)) == 0:
            return draw(LEAVES)
        kind = draw(st.sampled_from(["binary", "unary", "call"]))
        if kind == "binary":
            return ast.BinOp(node(depth + 1), draw(st.sampled_from(ALLOWED_BINARY))(), node(depth + 1))
        if kind == "unary":
            return ast.UnaryOp(draw(st.sampled_from([ast.USub, ast.UAdd]))(), node(depth + 1))
        arguments = [node(depth + 1) for _ in range(draw(st.sampled_from([1, 1, 1, 2, 0, 3])))]
        keywords = [ast.keyword("alpha", node(depth + 1)) for _ in range(draw(st.sampled_from([0, 0, 1])))]
        return ast.Call(_name(draw(st.sampled_from(FUNCTIONS))), arguments, keywords)

    return node(0)


def _graft(tree: ast.expr, replace_leaf: int, graft: ast.expr) -> ast.expr:
    """``tree`` with its ``replace_leaf``-th leaf (modulo their number) replaced by ``graft``."""
    slots: list[tuple[ast.AST | None, str, int | None]] = [(None, "", None)]
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if field == "func":  # the callee stays a function name
                continue
            items = value if isinstance(value, list) else [value]
            for index, item in enumerate(items):
                if isinstance(item, (ast.Constant, ast.Name)):
                    slots.append((parent, field, index if isinstance(value, list) else None))
    parent, field, index = slots[replace_leaf % len(slots)] if len(slots) > 1 else slots[0]
    if parent is None:
        return graft
    if index is None:
        setattr(parent, field, graft)
    else:
        getattr(parent, field)[index] = graft
    return tree


@st.composite
def trees(draw: st.DrawFn) -> ast.expr:
    """Half the time an allowed tree; otherwise one with a forbidden construct grafted in somewhere."""
    tree = draw(allowed_trees())
    kind = draw(st.one_of(st.none(), st.sampled_from(sorted(FORBIDDEN))))
    if kind is None:
        return tree
    forbidden = FORBIDDEN[kind](lambda: draw(allowed_trees(max_depth=2)))
    note(f"forbidden: {kind}")
    return _graft(tree, draw(st.integers(0, 50)), forbidden)


def allowed(root: ast.expr) -> bool:
    """The whitelist, restated: numbers, variables, + - * / **, unary -/+, and calls of the functions."""
    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                return False
        elif isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                return False
        elif isinstance(node, ast.BinOp):
            if not isinstance(node.op, ALLOWED_BINARY):
                return False
            stack += [node.left, node.right]
        elif isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, (ast.USub, ast.UAdd)):
                return False
            stack.append(node.operand)
        elif isinstance(node, ast.Call):
            arguments = _call_arguments(node)
            if arguments is None:
                return False
            stack += arguments
        else:
            return False
    return True


def _call_arguments(node: ast.Call) -> list[ast.expr] | None:
    """The arguments of an allowed call, or None if the call itself is not allowed."""
    if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
        return None
    name, arguments = node.func.id, list(node.args)
    if name in NARY:
        return arguments if arguments and not node.keywords else None
    if name in PAIRS:
        return arguments if len(arguments) == 2 and not node.keywords else None
    for named in node.keywords:
        if name in WITH_PARAMETER and named.arg == "alpha" and len(arguments) == 1:
            arguments.append(named.value)
        else:
            return None
    if len(arguments) == 2 and name in WITH_PARAMETER:
        if any(isinstance(inner, ast.Name) for inner in ast.walk(arguments[1])):
            return None
        return arguments
    return arguments if len(arguments) == 1 else None


def _within_limits(text: str) -> bool:
    depth = deepest = 0
    for ch in text:
        depth += ch in "([{"
        depth -= ch in ")]}"
        deepest = max(deepest, depth)
    return len(text) <= MAX_LENGTH and deepest <= MAX_NESTING


def _check_error(error: ExpressionError, text: str) -> None:
    assert "\n" not in str(error) and str(error)
    lines = error.pointer().split("\n")
    assert len(lines) == (1 if error.start is None else 2)
    if error.start is not None:
        assert error.end is not None
        assert 0 <= error.start < error.end <= max(len(text), error.start + 1)
        assert lines[1].strip() == "^" * (error.end - error.start)


def _evaluate(expression: Expression) -> None:
    result = expression.evaluate({name: Value(0.5, label=name) for name in expression.variables})
    assert isinstance(result, (Value, float))


@given(tree=trees())
def test_a_tree_is_accepted_exactly_when_the_whitelist_allows_it(tree: ast.expr) -> None:
    text = ast.unparse(tree)
    note(f"text: {text!r}")
    expected = allowed(tree) and _within_limits(text)
    with nothing_may_run():
        try:
            expression = parse(text)
        except ExpressionError as error:
            _check_error(error, text)
            assert not expected, f"{text!r} is allowed but was refused: {error}"
            event("refused")
            return
        assert expected, f"{text!r} was accepted"
        event("accepted")
        _evaluate(expression)


NUMBER_TOKENS = ["0", "1.5", "1e309", "0x1F", "1_000", "3j", "1e", ".5"]
OPERATOR_TOKENS = ["+", "-", "*", "/", "**", "//", "%", "@", "^", "~", "<", "==", "(", ")", "[", "]", "{", "}", ","]
ODD_TOKENS = [".", ":", "=", ":=", "'", '"', "f'{x}'", "\\", "#", ";", " ", "\t", "\n", "\x00", "\u2028", "\ud800"]
ODD_TOKENS += ["é", "𝑥", "١", "lambda:", "__class__", "alpha=", "*", "**x", "..."]
TOKENS = st.sampled_from(
    [*VARIABLES, *FUNCTIONS, *HOSTILE_NAMES, *keyword.kwlist, *NUMBER_TOKENS, *OPERATOR_TOKENS, *ODD_TOKENS]
)


@given(text=st.one_of(st.lists(TOKENS, max_size=25).map("".join), st.text(max_size=60)))
def test_token_soup_gives_an_expression_or_an_expression_error(text: str) -> None:
    with nothing_may_run():
        try:
            expression = parse(text)
        except ExpressionError as error:
            _check_error(error, text)
            return
        _evaluate(expression)


@pytest.mark.parametrize("kind", sorted(FORBIDDEN))
def test_every_forbidden_construct_is_refused_anywhere(kind: str) -> None:
    tree = ast.Call(_name("tanh"), [ast.BinOp(_name("x"), ast.Add(), _name("w"))], [])
    grafted = _graft(tree, 1, FORBIDDEN[kind](lambda: ast.Constant(2)))
    assert not allowed(grafted)
    text = ast.unparse(grafted)
    with nothing_may_run(), pytest.raises(ExpressionError) as caught:
        parse(text)
    _check_error(caught.value, text)


def test_text_python_warns_about_gives_only_our_error() -> None:
    with nothing_may_run():
        for text in ("1if x else 2", "0x1for x", "3j+x", "'\\d'"):
            try:
                parse(text)
            except ExpressionError as error:
                _check_error(error, text)
            else:
                raise AssertionError(f"{text!r} was accepted")


def test_the_audit_hook_sees_execution() -> None:
    """The watcher itself works: eval of a code object is an 'exec' event."""
    try:
        with nothing_may_run():
            eval("1 + 1")
    except AssertionError as failure:
        assert "exec" in str(failure)
    else:
        raise AssertionError("the audit hook missed eval()")
