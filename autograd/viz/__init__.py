"""Drawing graphs and the backward player.

* ``draw``        -- ``draw``, ``Graph`` and the shared preparation of a drawing;
* ``structure``, ``fit``, ``bundles`` -- what is drawn: nodes, scopes, folding, bundled edges;
* ``dot_writer``, ``dot_nodes``, ``text`` -- the DOT text, its node statements and labels (every user
  string escaped);
* ``render``, ``svg_markup`` -- DOT in, SVG out, through any renderer, normalised in one place;
* ``browser`` -- the renderer in a web page under Pyodide: the page's Graphviz in WebAssembly (viz.js);
* ``player``, ``player_text``, ``svg_slots``, ``page`` -- ``draw_backward`` and HTML pages.
"""
