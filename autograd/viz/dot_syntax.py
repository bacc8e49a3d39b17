"""Reading DOT text: its tokens, and how many nodes it makes (what a rendered SVG must hold).

A small tokenizer, not a parser: strings and HTML labels are one token each, so no label,
however hostile, can look like a statement to the count.
"""

from __future__ import annotations

import re

__all__ = ["DotSyntaxError", "count_node_statements"]


class DotSyntaxError(ValueError):
    """The DOT text has a character no DOT token starts with."""


_DOT_TOKEN = re.compile(
    r'\s+|//[^\n]*|/\*.*?\*/|^\#[^\n]*|"(?:[^"\\]|\\.)*"|->|--|[\[\]{};=,:<+]'
    r"|-?(?:\.\d+|\d+(?:\.\d*)?)|[A-Za-z_\x80-\U0010ffff][\w\x80-\U0010ffff]*",
    re.S | re.M,
)
_SKIPPED = ("//", "/*", "#")


def _dot_tokens(dot_text: str) -> list[str]:
    """DOT's tokens, comments and spaces dropped; an HTML string (``<...>``, nested) is one token ``<>``."""
    tokens: list[str] = []
    position = 0
    while position < len(dot_text):
        if dot_text[position] == "<":
            depth, position = 1, position + 1
            while depth and position < len(dot_text):
                depth += {"<": 1, ">": -1}.get(dot_text[position], 0)
                position += 1
            tokens.append("<>")
            continue
        match = _DOT_TOKEN.match(dot_text, position)
        if match is None:
            raise DotSyntaxError(f"cannot read the DOT text at character {position}")
        token = match.group()
        if not token.isspace() and not token.startswith(_SKIPPED):
            tokens.append(token)
        position = match.end()
    return _joined(tokens)


def _joined(tokens: list[str]) -> list[str]:
    """``"a" + "b"`` is one string in DOT: join such runs into one token."""
    out: list[str] = []
    for token in tokens:
        if len(out) >= 2 and out[-1] == "+" and out[-2].startswith('"') and token.startswith('"'):
            out[-2:] = [out[-2][:-1] + token[1:]]
        else:
            out.append(token)
    return out


def count_node_statements(dot_text: str) -> int:
    """How many nodes the DOT text makes: the distinct names of its node statements and edge ends.

    Attribute statements (``graph``/``node``/``edge [...]``), assignments and subgraph headers
    make no node; labels never look like one (a string is one token).
    """
    tokens = [*_dot_tokens(dot_text), ";"]
    names: set[str] = set()
    i = 0
    while i < len(tokens) - 1:
        token, following = tokens[i], tokens[i + 1]
        if token in "{};,":
            i += 1
        elif token.lower() in ("strict", "digraph", "graph", "subgraph") and following != "[":
            i += 1 if following in "{;" else 2  # the keyword and its optional name
        elif token.lower() in ("graph", "node", "edge") or token == "]":
            i = _skip_attributes(tokens, i + 1)
        elif following == "=":
            i += 3
        else:  # a node ID, perhaps with a port, an edge chain and attribute lists
            names.add(_unquoted(token))
            i = _skip_port(tokens, i + 1)
            while tokens[i] in ("->", "--"):
                if tokens[i + 1] not in "{":
                    names.add(_unquoted(tokens[i + 1]))
                i = _skip_port(tokens, i + 2)
            i = _skip_attributes(tokens, i)
    return len(names)


def _unquoted(name: str) -> str:
    return name[1:-1].replace('\\"', '"') if name.startswith('"') else name


def _skip_port(tokens: list[str], i: int) -> int:
    while tokens[i] == ":":
        i += 2
    return i


def _skip_attributes(tokens: list[str], i: int) -> int:
    """The index after any ``[...]`` lists starting at ``i``."""
    while tokens[i] == "[":
        while tokens[i] != "]":
            i += 1
        i += 1
    return i
