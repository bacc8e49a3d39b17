"""One self-contained HTML page for a drawing: the backward player, or a static graph.

Inline SVG, inline JSON and a few lines of plain JavaScript: no network, works from
``file://``. User text reaches the page only inside Graphviz's SVG (XML-escaped by
Graphviz) or inside the JSON, which is escaped so that no ``<``, ``>`` or ``&`` appears
in the ``<script>`` element; the script writes text with ``textContent`` only.
"""

from __future__ import annotations

import html
import json
from typing import Any

from .player_text import hover_lines, value_names
from .practice import PRACTICE_CSS, PRACTICE_SCRIPT
from .structure import Structure
from .svg_slots import parse_svg

__all__ = ["PLAY_INTERVAL_MS", "graph_page", "page", "script_json"]

PLAY_INTERVAL_MS = 1200  # Play's pace: time to read a caption

# The drawing shrinks to the page's width, but no further than this: Graphviz's 10 pt edge
# labels stay at 9 px or more; a wider drawing scrolls sideways (or zoom with the wheel).
MIN_SCALE = 0.7
WORDS_MAX_HEIGHT = 288  # px: twelve caption lines, nine practice rows; more scroll inside their box

# Shared by the player and the static graph; without frames the controls are hidden.
_SCRIPT = """
(function () {
  "use strict";
  const D = JSON.parse(document.getElementById("data").textContent);
  const svg = document.getElementById("drawing");
  const tip = document.getElementById("tooltip");
  const frames = D.frames;
  let current = 0, timer = null;
  function mark(ids, name) {
    for (const id of ids) { const e = document.getElementById(id); if (e) e.classList.add(name); }
  }
  function setText(pairs) {
    for (const [id, text] of pairs) document.getElementById(id).textContent = text;
  }
  const P = D.practice ? practice(D, frames, show) : null;  // practice mode: ask before showing
  function show(n) {
    current = Math.max(0, Math.min(frames.length - 1, n));
    const f = frames[current], open = P !== null && P.open(current);
    setText(D.start);
    for (let i = 0; i <= current - (open ? 1 : 0); i++) setText(frames[i].g);
    for (const e of svg.querySelectorAll(".changed, .focus, .active")) e.classList.remove("changed", "focus", "active");
    mark(f.focus, "focus");
    if (!open) { mark(f.changed, "changed"); mark(f.edges, "active"); }
    const focus = document.getElementById(f.focus[0]);  // a wide drawing scrolls sideways to the step
    const view = document.getElementById("view");
    if (focus && view.scrollWidth > view.clientWidth) {
      const r = focus.getBoundingClientRect(), v = view.getBoundingClientRect();
      view.scrollLeft += (r.left + r.width / 2) - (v.left + v.width / 2);
    }
    document.getElementById("caption").textContent = open ? f.head : f.caption;
    document.getElementById("counter").textContent = (current + 1) + " / " + frames.length;
    if (P) P.render(current, open);
  }
  const playButton = document.getElementById("play");
  function stop() { clearInterval(timer); timer = null; if (playButton) playButton.textContent = "Play"; }
  function play() {
    if (timer) { stop(); return; }
    if (current === frames.length - 1) show(0);
    playButton.textContent = "Pause";
    timer = setInterval(function () { if (current >= frames.length - 1) stop(); else show(current + 1); }, D.interval);
  }
  function forward() { stop(); if (P && P.skip(current)) return; show(current + 1); }
  if (frames.length) {
    document.getElementById("previous").onclick = function () { stop(); show(current - 1); };
    document.getElementById("next").onclick = forward;
    if (playButton) playButton.onclick = play;
    document.addEventListener("keydown", function (ev) {
      if (ev.target.tagName === "INPUT" && ev.target.value !== "") return;  // the caret moves in an answer
      if (ev.key === "ArrowLeft") { stop(); show(current - 1); ev.preventDefault(); }
      if (ev.key === "ArrowRight") { forward(); ev.preventDefault(); }
    });
    show(0);
  }
  svg.addEventListener("mousemove", function (ev) {
    const g = ev.target.closest("g.node");
    const lines = g && D.info[g.id];
    if (!lines) { tip.hidden = true; return; }
    const grads = Array.from(g.querySelectorAll("text.grad-text"), function (t) { return t.textContent.trim(); });
    const value = g.id.startsWith("v") && grads.length === 1;  // a value's cell holds a number only
    const now = value ? ["grad(" + lines[0] + ") = " + grads[0].replace("-", "\u2212")] : grads;
    tip.textContent = lines.concat(now).join("\\n");
    tip.style.left = (ev.clientX + 14) + "px"; tip.style.top = (ev.clientY + 14) + "px";
    tip.hidden = false;
  });
  svg.addEventListener("mouseleave", function () { tip.hidden = true; });
  // Zoom with the wheel around the pointer, pan by dragging, double-click to reset.
  const box = svg.viewBox.baseVal, home = [box.x, box.y, box.width, box.height];
  svg.addEventListener("wheel", function (ev) {
    ev.preventDefault();
    const r = svg.getBoundingClientRect(), s = ev.deltaY > 0 ? 1.2 : 1 / 1.2;
    const px = box.x + (ev.clientX - r.left) / r.width * box.width;
    const py = box.y + (ev.clientY - r.top) / r.height * box.height;
    box.x = px - (px - box.x) * s; box.y = py - (py - box.y) * s; box.width *= s; box.height *= s;
  }, { passive: false });
  let drag = null;
  svg.addEventListener("pointerdown", function (ev) { drag = [ev.clientX, ev.clientY]; });
  window.addEventListener("pointerup", function () { drag = null; });
  svg.addEventListener("pointermove", function (ev) {
    if (!drag) return;
    const r = svg.getBoundingClientRect();
    box.x -= (ev.clientX - drag[0]) * box.width / r.width;
    box.y -= (ev.clientY - drag[1]) * box.height / r.height;
    drag = [ev.clientX, ev.clientY];
  });
  svg.addEventListener("dblclick", function () { [box.x, box.y, box.width, box.height] = home; });
})();
"""

_CSS = """
body { font-family: Helvetica, Arial, sans-serif; margin: 12px; color: #111827; }
#controls { display: flex; gap: 8px; align-items: center; margin-bottom: 8px; }
#controls button { font-size: 15px; padding: 4px 14px; }
#counter { font-size: 15px; color: #4b5563; }
#caption { white-space: pre-wrap; font-size: 16px; line-height: 1.5; margin-bottom: 8px; overflow-y: auto;
           border-bottom: 1px solid #e5e7eb; }
#view { overflow-x: auto; }
#drawing { width: 100%; height: auto; cursor: grab; touch-action: none; }
#tooltip { position: fixed; white-space: pre; background: #111827; color: #f9fafb; font-size: 14px;
           padding: 6px 9px; border-radius: 4px; pointer-events: none; }
.hint { font-size: 13px; color: #6b7280; }
"""


def script_json(data: Any) -> str:
    """``data`` as JSON that cannot end its ``<script>`` element or open a comment there."""
    text = json.dumps(data, ensure_ascii=True, sort_keys=True, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def page(
    title: str, svg: str, data: dict[str, Any], natural_width: float, caption_lines: int = 2, practice_rows: int = 0
) -> str:
    """The HTML page: ``svg`` (an ``<svg id="drawing">`` element) with ``data`` for the script.

    ``data`` has ``frames`` (empty for a static graph), ``start`` (the grad texts before
    the first frame), ``info`` (hover lines per node id) and ``interval`` (ms per frame in Play).
    The caption has a fixed height of ``caption_lines`` lines (the longest caption's), so the
    drawing below it stays where it is in every frame. ``practice_rows`` > 0: practice mode
    (``data`` has ``practice``, ``precision`` and each frame's ``head`` and ``ask``), with a
    question area of that many rows, also of fixed height.
    """
    player = bool(data["frames"])
    hint = "type each grad, Enter checks · → reveals a step unanswered (skipped) · ← back"
    hint = hint if practice_rows else "← → step · hover a node for its numbers · wheel zooms, drag pans"
    play = "" if practice_rows else '<button id="play">Play</button>'
    score = '<span id="score" aria-live="polite"></span>' if practice_rows else ""
    questions = '<div id="practice" aria-live="polite"></div>' if practice_rows else ""
    controls = (
        f'<div id="controls"><button id="previous">Previous</button><button id="next">Next</button>{play}'
        f'<span id="counter"></span>{score}<span class="hint">{hint}</span></div>'
        f'<div id="words"><div id="caption"></div>{questions}</div>'
        if player
        else '<div class="hint">hover a node for its numbers · wheel zooms, drag pans, double-click resets</div>'
    )
    height = 24 * max(1, caption_lines)  # px: 1.5 lines of 16 px each
    if practice_rows:  # the questions beside the caption, both as tall as the taller
        height = max(height, 30 * practice_rows + 8)
        style = "#words { display: flex; gap: 16px; } #caption { flex: 1; min-width: 0; } #practice { flex: 1; }\n"
    else:
        style = ""
    # At most WORDS_MAX_HEIGHT: a folded MLP's frame lists every parameter, and reserving room for
    # that in every frame left hundreds of blank pixels above the drawing; longer words scroll.
    style += f"#caption, #practice {{ height: {min(height, WORDS_MAX_HEIGHT)}px; overflow-y: auto; }}\n"
    script = _SCRIPT
    if practice_rows:
        style += PRACTICE_CSS
        script = _SCRIPT.replace("})();", PRACTICE_SCRIPT + "})();")
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n"
        f"<style>{_CSS}{style}"
        f"#drawing {{ max-width: {natural_width:.0f}px; min-width: {natural_width * MIN_SCALE:.0f}px; }}"
        "</style>\n"
        "</head>\n<body>\n"
        f'{controls}\n<div id="view">{svg}</div>\n'
        '<div id="tooltip" hidden></div>\n'
        f'<script type="application/json" id="data">{script_json(data)}</script>\n'
        f"<script>{script}</script>\n"
        "</body>\n</html>\n"
    )


def graph_page(svg: str, structure: Structure, precision: int = 4) -> str:
    """``draw(...).save("graph.html")``: the static drawing ``svg`` of ``structure``, with hover text, zoom and pan."""
    template = parse_svg(svg, ())
    info = hover_lines(structure, value_names(structure), {v: v.grad for v in structure.values}, precision)
    body = template.body({}, {}, {})  # the page's own tooltip shows the hover text
    data = {"frames": [], "start": [], "info": info, "interval": PLAY_INTERVAL_MS}
    return page("valuegrad graph", template.inline(body), data, template.natural_width)
