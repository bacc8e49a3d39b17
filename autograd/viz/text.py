"""Text that reaches a drawing: escaping user strings for DOT's HTML-like labels, and numbers.

Every piece of user text (labels, scope names) goes into DOT only through ``html_text``:
a label can never add or change a node, whatever it contains.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable

__all__ = ["LABEL_DISPLAY_LIMIT", "counted_names", "format_number", "html_text", "number_cell_text"]

LABEL_DISPLAY_LIMIT = 120  # characters of a user label shown; the rest is elided

# After a backslash, Graphviz may substitute these (\N is the node name, \G the graph's,
# \\ a single backslash) even inside HTML-like labels: a zero-width space breaks the pair.
_SUBSTITUTED_AFTER_BACKSLASH = frozenset("GNEHTLnlr\\")
_ZERO_WIDTH_SPACE = "&#8203;"
# "]" as an entity too: Graphviz 2.42/2.43 refuses a label whose text is only "]" (a syntax error).
_HTML_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;", "]": "&#93;"}


def _visible_escape(ch: str) -> str:
    code = ord(ch)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def html_text(text: str, limit: int | None = LABEL_DISPLAY_LIMIT) -> str:
    """``text`` made safe as the content of a Graphviz HTML-like label.

    Markup characters become entities, a newline becomes ``<br/>``, control
    characters and code points XML cannot carry (surrogates, U+FFFE/U+FFFF) are
    shown as ``\\xNN``/``\\uNNNN``, and a backslash never starts a Graphviz escape.
    """
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out: list[str] = []
    for i, ch in enumerate(text):
        if ch in _HTML_ENTITIES:
            out.append(_HTML_ENTITIES[ch])
        elif ch == "\n":
            out.append("<br/>")
        elif ch == "\\":
            out.append("\\")
            if i + 1 < len(text) and text[i + 1] in _SUBSTITUTED_AFTER_BACKSLASH:
                out.append(_ZERO_WIDTH_SPACE)
        elif unicodedata.category(ch) in ("Cc", "Cs") or ch in "\ufffe\uffff":
            out.append(_visible_escape(ch))
        else:
            out.append(ch)
    return "".join(out)


def format_number(x: float, precision: int) -> str:
    """``x`` with ``precision`` decimals, switching to exponent form when that would hide it."""
    if math.isnan(x):
        return "nan"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    # Fixed point while it shows two significant digits (one when there are at most 1 decimals).
    smallest = 10.0 ** (1 - precision) if precision > 1 else 10.0**-precision
    if x == 0.0 or smallest <= abs(x) < 1e6:
        return f"{x:.{precision}f}"
    return f"{x:.{max(precision - 1, 1)}e}"


def number_cell_text(text: str, width: int) -> str:
    """``text`` right-aligned in ``width`` characters: in the monospace number cells every
    string of one drawing has the same length, so swapping one for another moves nothing."""
    return text.rjust(width)


_NUMBERED = re.compile(r"^([A-Za-z][A-Za-z_ -]*?) \d+$")


def counted_names(labels: Iterable[str]) -> list[str]:
    """['neuron 0', 'neuron 1', 'layer 2'] -> ['2 neurons', '1 layer']; other names listed as they are."""
    counts: dict[str, int] = {}
    for label in labels:
        match = _NUMBERED.match(label)
        key = match.group(1) if match else "\0" + label
        counts[key] = counts.get(key, 0) + 1
    parts = []
    for key, n in counts.items():
        if key.startswith("\0"):
            parts.append(key[1:] + (f" (×{n})" if n > 1 else ""))
        else:
            parts.append(f"{n} {key}{'s' if n != 1 and not key.endswith('s') else ''}")
    if len(parts) > 4:
        parts = [*parts[:3], f"{len(parts) - 3} more"]
    return parts
