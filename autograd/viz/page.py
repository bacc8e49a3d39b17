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
from .structure import Structure
from .svg_slots import parse_svg

__all__ = ["PLAY_INTERVAL_MS", "graph_page", "page", "script_json"]

PLAY_INTERVAL_MS = 1200  # Play's pace: time to read a caption

# The drawing shrinks to the page's width, but no further than this: Graphviz's 10 pt edge
# labels stay at 9 px or more; a wider drawing scrolls sideways (or zoom with the wheel).
MIN_SCALE = 0.7

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
  function show(n) {
    current = Math.max(0, Math.min(frames.length - 1, n));
    setText(D.start);
    for (let i = 0; i <= current; i++) setText(frames[i].g);
    for (const e of svg.querySelectorAll(".changed, .focus, .active")) e.classList.remove("changed", "focus", "active");
    const f = frames[current];
    mark(f.changed, "changed"); mark(f.focus, "focus"); mark(f.edges, "active");
    const focus = document.getElementById(f.focus[0]);  // a wide drawing scrolls sideways to the step
    const view = document.getElementById("view");
    if (focus && view.scrollWidth > view.clientWidth) {
      const r = focus.getBoundingClientRect(), v = view.getBoundingClientRect();
      view.scrollLeft += (r.left + r.width / 2) - (v.left + v.width / 2);
    }
    document.getElementById("caption").textContent = f.caption;
    document.getElementById("counter").textContent = (current + 1) + " / " + frames.length;
  }
  function stop() { clearInterval(timer); timer = null; document.getElementById("play").textContent = "Play"; }
  function play() {
    if (timer) { stop(); return; }
    if (current === frames.length - 1) show(0);
    document.getElementById("play").textContent = "Pause";
    timer = setInterval(function () { if (current >= frames.length - 1) stop(); else show(current + 1); }, D.interval);
  }
  if (frames.length) {
    document.getElementById("previous").onclick = function () { stop(); show(current - 1); };
    document.getElementById("next").onclick = function () { stop(); show(current + 1); };
    document.getElementById("play").onclick = play;
    document.addEventListener("keydown", function (ev) {
      if (ev.key === "ArrowLeft") { stop(); show(current - 1); ev.preventDefault(); }
      if (ev.key === "ArrowRight") { stop(); show(current + 1); ev.preventDefault(); }
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


def page(title: str, svg: str, data: dict[str, Any], natural_width: float, caption_lines: int = 2) -> str:
    """The HTML page: ``svg`` (an ``<svg id="drawing">`` element) with ``data`` for the script.

    ``data`` has ``frames`` (empty for a static graph), ``start`` (the grad texts before
    the first frame), ``info`` (hover lines per node id) and ``interval`` (ms per frame in Play).
    The caption has a fixed height of ``caption_lines`` lines (the longest caption's), so the
    drawing below it stays where it is in every frame.
    """
    player = bool(data["frames"])
    controls = (
        '<div id="controls"><button id="previous">Previous</button><button id="next">Next</button>'
        '<button id="play">Play</button><span id="counter"></span>'
        '<span class="hint">← → step · hover a node for its numbers · wheel zooms, drag pans</span></div>'
        '<div id="caption"></div>'
        if player
        else '<div class="hint">hover a node for its numbers · wheel zooms, drag pans, double-click resets</div>'
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n"
        f"<style>{_CSS}#caption {{ height: {1.5 * max(1, caption_lines):.1f}em; }}\n"
        f"#drawing {{ max-width: {natural_width:.0f}px; min-width: {natural_width * MIN_SCALE:.0f}px; }}"
        "</style>\n"
        "</head>\n<body>\n"
        f'{controls}\n<div id="view">{svg}</div>\n'
        '<div id="tooltip" hidden></div>\n'
        f'<script type="application/json" id="data">{script_json(data)}</script>\n'
        f"<script>{_SCRIPT}</script>\n"
        "</body>\n</html>\n"
    )


def graph_page(svg: str, structure: Structure, precision: int = 4) -> str:
    """``draw(...).save("graph.html")``: the static drawing ``svg`` of ``structure``, with hover text, zoom and pan."""
    template = parse_svg(svg, ())
    info = hover_lines(structure, value_names(structure), {v: v.grad for v in structure.values}, precision)
    body = template.body({}, {}, {})  # the page's own tooltip shows the hover text
    data = {"frames": [], "start": [], "info": info, "interval": PLAY_INTERVAL_MS}
    return page("valuegrad graph", template.inline(body), data, template.natural_width)
