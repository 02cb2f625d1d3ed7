/** The Pareto frontier on hand-computed cases, and the frontier chart's markers, links and stable bytes. */
import { assert, assertEquals } from "../assert.ts";
import { frontierChart, paretoFrontier } from "../../stages/export/frontier.ts";

Deno.test("paretoFrontier: lower x and higher y win; dominated, tied-worse and non-finite points are off it", () => {
  const pts = [
    { x: 8, y: 0.9 }, // 0: on it (best y)
    { x: 4, y: 0.5 }, // 1: on it (lowest x)
    { x: 6, y: 0.4 }, // 2: dominated by 1
    { x: 6, y: 0.7 }, // 3: on it
    { x: 4, y: 0.3 }, // 4: same x as 1, lower y: dominated
    { x: 10, y: 0.9 }, // 5: same y as 0, higher x: dominated
    { x: 2, y: NaN }, // 6: no score
  ];
  assertEquals(paretoFrontier(pts), [1, 3, 0]);
  assertEquals(paretoFrontier([]), []);
});

Deno.test("frontierChart: one linked marker per SAE, frontier members in red, same data same bytes", () => {
  const points = [
    { label: "k=4", x: 4, y: 0.5, href: "../a/dashboard/index.html" },
    { label: "k=8", x: 8, y: 0.4, href: null },
    { label: "k=16", x: 16, y: 0.8, href: "../c/dashboard/index.html" },
  ];
  const spec = { title: "L0 vs EV", xLabel: "L0", yLabel: "EV", points };
  const svg = frontierChart(spec);
  assertEquals(svg, frontierChart(spec));
  assertEquals(svg.match(/<circle class="sae"/g)?.length, 3);
  assertEquals(svg.match(/<a href="/g)?.length, 2);
  assert(svg.includes('<a href="../a/dashboard/index.html"><circle class="sae" data-label="k=4"'));
  assertEquals(svg.match(/fill="#dc2626"/g)?.length, 2); // k=4 and k=16; k=8 is dominated by k=4
  assert(/data-label="k=8"[^>]*fill="#2563eb"/.test(svg));
  assertEquals(svg.match(/<polyline class="frontier"[^>]*points="([^"]*)"/)![1].split(" ").length, 2);
});
