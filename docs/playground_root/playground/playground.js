// The playground: Pyodide and viz.js from this site's own files, valuegrad from its wheel.
"use strict";

const EXAMPLES = {
  "a neuron": `from valuegrad.autograd import Value

x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
b = Value(6.8813735870195432, label="b")
y = (x1 * w1 + x2 * w2 + b).tanh()
y.label = "y"
`,
  "fan-out": `from valuegrad.autograd import Value

# a is used twice: its gradient is the sum over both paths
a = Value(3.0, label="a")
b = Value(-2.0, label="b")
d = a * b
e = a + b
y = d * e
y.label = "y"
`,
  "an MLP on one input": `from valuegrad.nn import MLP
from valuegrad.autograd import Value

import random
random.seed(0)
model = MLP(2, [3, 1])  # 2 inputs, a hidden layer of 3 tanh neurons, 1 output
x = [Value(1.0, label="x0"), Value(-2.0, label="x1")]
(y,) = model(x)  # a layer returns a list: here, of one Value
y.label = "y"
`,
};

// Run inside Pyodide for every press of Run: the user's code, then the drawing and the player of y.
const RUN = `
from valuegrad.autograd import Value, draw, draw_backward

def _run(code):
    space = {"__name__": "__main__"}
    exec(compile(code, "<playground>", "exec"), space)
    y = space.get("y")
    if not isinstance(y, Value):
        raise TypeError(f"define y as a Value to draw it (y is {type(y).__name__})")
    picture = draw(y).svg()
    player = draw_backward(y).html()
    return picture, player
_run
`;

const $ = (id) => document.getElementById(id);
let run = null;

function status(text) { $("status").textContent = text; }

function showError(error) {
  const block = $("error");
  block.textContent = String(error && error.message ? error.message : error).trim();
  block.hidden = false;
  status("Error (below)");
}

async function start() {
  const timings = {};
  let started = performance.now();
  const lap = (name) => { const now = performance.now(); timings[name] = Math.round(now - started); started = now; };
  status("Starting Graphviz…");
  const viz = await Viz.instance();  // Graphviz in WebAssembly, before Python starts
  lap("viz");
  status("Starting Python (Pyodide; a few seconds)…");
  const pyodide = await loadPyodide({ indexURL: new URL("../_static/pyodide/", location.href).href });
  lap("pyodide");
  status("Installing valuegrad…");
  const response = await fetch("wheels.json");
  if (!response.ok) throw new Error(`wheels.json: HTTP ${response.status} (build the site with make docs)`);
  const names = await response.json();
  await pyodide.loadPackage(names.map((name) => new URL("wheels/" + name, location.href).href), {
    messageCallback: () => {},
  });
  lap("wheels");
  status("Importing valuegrad…");
  pyodide.pyimport("valuegrad.autograd.viz.browser").use(viz);
  run = pyodide.runPython(RUN);
  lap("import");
  window.playgroundTimings = timings;
  $("run").disabled = false;
  status("Ready.");
}

function execute() {
  $("error").hidden = true;
  status("Running…");
  const t0 = performance.now();
  try {
    const result = run($("code").value);
    const [svg, page] = result.toJs();
    result.destroy();
    $("output").innerHTML = svg;
    $("player").srcdoc = page;
    status(`Done in ${Math.round(performance.now() - t0)} ms.`);
    if (window.playgroundTimings && !("firstRun" in window.playgroundTimings)) {
      window.playgroundTimings.firstRun = Math.round(performance.now() - t0);
    }
  } catch (error) {
    showError(error);
  }
}

function setUp() {
  // Anything that goes wrong outside Run (a script that failed to load, a rejected promise) lands in the same block.
  window.addEventListener("error", (event) => showError(event.message || event));
  window.addEventListener("unhandledrejection", (event) => showError(event.reason));
  const select = $("example");
  for (const name of Object.keys(EXAMPLES)) select.add(new Option(name, name));
  select.addEventListener("change", () => { $("code").value = EXAMPLES[select.value]; });
  $("code").value = EXAMPLES[select.value];
  $("run").addEventListener("click", execute);
  start().catch((error) => showError("The playground could not start: " + (error.message || error)));
}

setUp();
