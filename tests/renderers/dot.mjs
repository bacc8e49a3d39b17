// A `dot` stand-in: Graphviz compiled to WebAssembly (@viz-js/viz) under node.
// Usage: node dot.mjs <package> -T<format> < graph.dot   (-V prints the Graphviz version)
import { readFileSync } from "node:fs";

const [packageName, ...args] = process.argv.slice(2);
const { instance } = await import(packageName);
const viz = await instance();
if (args.includes("-V")) {
  process.stderr.write(`dot - graphviz version ${viz.graphvizVersion} (viz.js)\n`);
  process.exit(0);
}
const format = (args.find((a) => a.startsWith("-T")) || "-Tsvg").slice(2);
const result = viz.render(readFileSync(0, "utf8"), { format });
for (const error of result.errors) process.stderr.write(`${error.level ?? "error"}: ${error.message}\n`);
if (result.status !== "success") process.exit(1);
process.stdout.write(result.output);
