"""Practice mode of the backward player: the student works out each frame before it is shown.

Before a frame is revealed the page asks for every drawn quantity the frame will change, one
``<input data-name="...">`` each (a plain node's step: the adjoints of its inputs; a folded
box's step: the adjoints it sends to its inputs and its parameters' gradients). Enter (or the
Check button) marks each answer right when it is within half a unit of the drawing's last
digit, then reveals the frame with its arithmetic; → on an unanswered frame reveals it and
counts it as skipped. The page keeps the score. Everything runs offline in the saved page.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from ..core import Value
from .player_text import Contribution, signed
from .structure import Box, Structure

__all__ = ["PRACTICE_CSS", "PRACTICE_SCRIPT", "asks", "practice_rows"]


def _number(x: float) -> str:
    """``x`` for JavaScript's ``Number()``: every digit, and its spellings of inf and nan."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return repr(x)


def asks(
    contributions: Sequence[Contribution],
    adjoints: Mapping[Value, float],
    box: Box | None,
    structure: Structure,
    names: Mapping[Value, str],
    precision: int,
) -> list[list[str]]:
    """What a frame (its terms, its adjoints after it, its folded box) asks for: ``[name as drawn,
    exact value, value as drawn]`` per quantity it changes, each once, valued after the frame."""
    asked: dict[Value, str] = {}
    if box is not None:  # as the caption lists them: the box's parameters, then its inputs
        contributions = sorted(contributions, key=lambda t: structure.box_of.get(t.parent) is not box)
    for t in contributions:
        if t.parent in asked:
            continue
        inside = box is not None and structure.box_of.get(t.parent) is box
        if inside and t.parent not in structure.parameters:
            continue  # a step inside a folded box: not drawn, not asked
        asked[t.parent] = (structure.label(t.parent) or names[t.parent]) if inside else names[t.parent]
    return [[name, _number(adjoints[v]), signed(adjoints[v], precision)] for v, name in asked.items()]


def practice_rows(questions: Sequence[Sequence[object]]) -> int:
    """The practice area's height in rows: the most questions a frame asks, and the score row."""
    return max((len(q) for q in questions), default=0) + 1


PRACTICE_CSS = """
#practice { font-size: 15px; overflow-y: auto; margin-bottom: 8px; border-bottom: 1px solid #e5e7eb; }
#practice .ask { display: flex; gap: 8px; align-items: center; height: 2em; }
#practice input { font: 15px Courier, monospace; width: 6.5em; }
#practice .ask { white-space: nowrap; }
#practice .verdict { font-weight: bold; }
#practice .right { color: #15803d; } #practice .wrong { color: #b91c1c; }
#score { font-size: 15px; color: #111827; }
"""

# Runs inside the player's script: ``frames``, ``show`` and ``current`` are the player's.
PRACTICE_SCRIPT = """
  function practice(D, frames, show) {
    const panel = document.getElementById("practice"), score = document.getElementById("score");
    const tol = 0.5 * Math.pow(10, -D.precision);
    const state = frames.map(function (f) {
      return { answers: [], verdicts: [], revealed: !f.ask.length, skipped: false };
    });
    let right = 0, asked = 0, skipped = 0;
    function tally() {
      const skips = skipped ? " · " + skipped + " skipped" : "";
      score.textContent = "score: " + right + " right out of " + asked + " asked" + skips;
    }
    function judge(text, value) {
      const a = Number(String(text).trim().replace(/\\u2212/g, "-"));
      if (String(text).trim() === "" || isNaN(a)) return isNaN(value) && /^nan$/i.test(String(text).trim());
      if (!isFinite(value)) return a === value;
      return Math.abs(a - value) <= tol + 1e-12 * Math.abs(value);
    }
    function check(k) {
      const s = state[k], f = frames[k];
      if (s.revealed) return;
      const inputs = panel.querySelectorAll("input");
      f.ask.forEach(function (q, i) {
        s.answers[i] = inputs[i] ? inputs[i].value : "";
        const ok = judge(s.answers[i], Number(q[1]));
        s.verdicts[i] = ok ? "right" : "wrong: it is " + q[2];
        right += ok ? 1 : 0; asked += 1;
      });
      s.revealed = true; tally(); show(k);
      document.getElementById("next").focus();
    }
    function skip(k) {
      const s = state[k];
      if (s.revealed) return false;
      s.revealed = true; s.skipped = true; skipped += 1; tally(); show(k);
      document.getElementById("next").focus();
      return true;
    }
    function render(k, open) {
      const s = state[k], f = frames[k];
      panel.replaceChildren();
      f.ask.forEach(function (q, i) {
        const row = document.createElement("div"), label = document.createElement("label");
        const input = document.createElement("input"), verdict = document.createElement("span");
        row.className = "ask";
        label.textContent = "grad(" + q[0] + ") =";
        input.type = "text"; input.setAttribute("inputmode", "decimal"); input.dataset.name = q[0];
        input.id = "ask" + i; label.htmlFor = input.id;
        input.value = s.answers[i] === undefined ? "" : s.answers[i];
        input.disabled = !open;
        input.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { ev.preventDefault(); check(k); } });
        const said = s.verdicts[i] || "";
        verdict.className = "verdict" + (said ? (said.startsWith("right") ? " right" : " wrong") : "");
        verdict.textContent = s.verdicts[i] || "";
        row.append(label, input, verdict);
        if (s.skipped) {
          const note = document.createElement("span");
          note.className = "skipped"; note.textContent = "skipped";
          row.append(note);
        }
        panel.append(row);
      });
      if (open) {
        const button = document.createElement("button");
        button.id = "check"; button.textContent = "Check";
        button.onclick = function () { check(k); };
        panel.append(button);
        const first = panel.querySelector("input");
        if (first) first.focus();
      }
    }
    tally();
    return { open: function (k) { return !state[k].revealed; }, render: render, skip: skip };
  }
"""
