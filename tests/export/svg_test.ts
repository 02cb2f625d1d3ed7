import { assert, assertEquals, assertThrows } from "../assert.ts";
import { formatTick, histogram, lineChart, niceTicks } from "../../stages/export/svg.ts";
import { densityHistogram, histogramFromEval, trainingPlots } from "../../stages/export/plots.ts";

Deno.test("niceTicks and formatTick: 1-2-5 steps covering the range", () => {
  assertEquals(niceTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assertEquals(niceTicks(40960, 819200), [200000, 400000, 600000, 800000]);
  assertEquals(niceTicks(-10, 0), [-10, -8, -6, -4, -2, 0]);
  assertEquals([formatTick(800000), formatTick(12000), formatTick(0.25), formatTick(0.0001), formatTick(3e6)], [
    "800k",
    "12k",
    "0.25",
    "1.0e-4",
    "3M",
  ]);
});

Deno.test("lineChart: title, axis labels, one polyline per series with every finite point, escaped text", () => {
  const x = [1, 2, 3, 4, 5], y1 = [5, 4, 3, 2, 1], y2 = [1, NaN, 2, 0, 3];
  const svg = lineChart({
    title: "Loss <train & val>",
    xLabel: "tokens",
    yLabel: "loss",
    series: [{ name: "a", x, y: y1 }, { name: "b", x, y: y2 }],
  });
  assert(svg.startsWith(`<svg xmlns="http://www.w3.org/2000/svg"`));
  assert(svg.includes("<title>Loss &lt;train &amp; val&gt;</title>"));
  assert(svg.includes(">tokens</text>") && svg.includes(">loss</text>"));
  const lines = [...svg.matchAll(/<polyline[^>]*points="([^"]*)"/g)].map((m) => m[1].split(" ").length);
  assertEquals(lines, [5, 4]);
  assertEquals([...svg.matchAll(/<circle /g)].length, 9, "markers on short series");
  const long = Array.from({ length: 40 }, (_, i) => i);
  assert(
    !lineChart({ title: "t", xLabel: "x", yLabel: "y", series: [{ name: "a", x: long, y: long }] }).includes("<circle"),
  );
  // On a log axis, y <= 0 is dropped.
  const logSvg = lineChart({ title: "t", xLabel: "x", yLabel: "y", series: [{ name: "b", x, y: y2 }], logY: true });
  assertEquals([...logSvg.matchAll(/points="([^"]*)"/g)].map((m) => m[1].split(" ").length), [3]);
  assert(logSvg.includes(">1e0</text>"));
  // The first point sits at the left edge of the plot, the largest y at the top (margin 40).
  const pts = /points="([^"]*)"/.exec(svg)![1].split(" ").map((p) => p.split(",").map(Number));
  assertEquals(pts[0][0], 70);
  assertEquals(
    lineChart({ title: "t", xLabel: "x", yLabel: "y", series: [{ name: "a", x, y: y1 }] }),
    lineChart({ title: "t", xLabel: "x", yLabel: "y", series: [{ name: "a", x, y: y1 }] }),
  );
});

Deno.test("histogram: one bar per bin plus the extra bar; heights proportional to counts", () => {
  const svg = histogram({
    title: "h",
    xLabel: "x",
    yLabel: "n",
    edges: [0, 1, 2, 3],
    counts: [2, 0, 4],
    extra: { label: "dead", count: 1 },
  });
  const rects = [...svg.matchAll(/<rect x="[^"]*" y="[^"]*" width="[^"]*" height="([^"]*)"/g)].map((m) => Number(m[1]));
  assertEquals(rects.length, 4);
  assertEquals(rects[1], 0);
  assert(Math.abs(rects[0] * 2 - rects[2]) < 0.02, `bar heights ${rects}`);
  assert(Math.abs(rects[3] * 2 - rects[0]) < 0.02);
  assertThrows(() => histogram({ title: "bad", xLabel: "", yLabel: "", edges: [0, 1], counts: [1, 2] }));
});

Deno.test("densityHistogram: log10 bins over live latents, dead counted apart; eval.json {min,max,counts} accepted", () => {
  const h = densityHistogram([0, 1e-3, 1e-3, 0.5, 0, 1e-12], 4);
  assertEquals(h.dead, 2);
  assertEquals(h.edges, [-10, -7.5, -5, -2.5, 0]);
  assertEquals(h.counts, [1, 0, 2, 1]);
  const e = histogramFromEval({ min: -10, max: 0, counts: [3, 1] })!;
  assertEquals([e.edges, e.counts], [[-10, -5, 0], [3, 1]]);
  assertEquals(histogramFromEval({ counts: "x" }), null);
});

Deno.test("trainingPlots: loss/l0/dead_latents/explained_variance over tokens from train_log columns", () => {
  const log = {
    step: [1, 2, 3],
    tokens: [100, 200, 300],
    loss: [3, 2, 1],
    mse: [2.5, 1.5, 0.5],
    l0: [40, 35, 32],
    dead_latents: [10, 5, 0],
  };
  const p = trainingPlots(log);
  assertEquals(Object.keys(p), ["loss", "l0", "dead_latents"]);
  assertEquals([...p.loss.matchAll(/<polyline/g)].length, 2);
  assert(p.l0.includes(">training tokens</text>"));
  assertEquals(trainingPlots(null), {});
});

Deno.test("niceTicks: a range below float resolution or a constant series ends (one tick)", () => {
  assertEquals(niceTicks(4, 4 + 1e-13), [4]);
  assertEquals(niceTicks(1e6, 1e6 + 1e-7), [1e6]);
  assertEquals(niceTicks(0, 10), [0, 2, 4, 6, 8, 10]);
});
