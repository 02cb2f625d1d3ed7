/**
 * The index page of a sweep: `<store>/sweeps/<run id>/index.html`, one static page with a table of every SAE
 * of the run (its point, main params, L0, explained variance, downstream fidelity, dead latents; a link to
 * its dashboard) and two frontier plots, L0 vs explained variance and L0 vs downstream fidelity (the
 * fraction of the loss recovered relative to zero-ablation), whose markers link to the dashboards too.
 * Rows come from the `saes` view's source (stages/query/saes.ts), so the page and the SQL agree. Written to
 * a temporary file and renamed, so a reader never sees half a page.
 */
import { join, relative } from "node:path";
import { saeRows } from "../query/saes.ts";
import { frontierChart, type FrontierPoint } from "./frontier.ts";
import { escapeXml } from "./svg.ts";

const COLUMNS: [string, string][] = [
  ["point", "point"],
  ["architecture", "architecture"],
  ["hook", "hook"],
  ["d_sae", "d_sae"],
  ["k", "k"],
  ["lr", "lr"],
  ["l0", "L0"],
  ["explained_variance", "explained variance"],
  ["downstream_fraction_recovered_zero", "downstream (vs zero-ablation)"],
  ["dead_latents", "dead latents"],
];

function cell(v: unknown): string {
  if (v === null || v === undefined) return "–";
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
  return escapeXml(String(v));
}

/** Write the sweep's index page; returns its path (null when the run trained no SAE). */
export async function writeSweepIndex(store: string, runId: string): Promise<string | null> {
  const rows = await saeRows(store, runId);
  if (rows.length === 0) return null;
  const dir = join(store, "sweeps", runId);
  await Deno.mkdir(dir, { recursive: true });
  const href = (r: Record<string, unknown>) => r.dashboard ? relative(dir, String(r.dashboard)) : null;
  const label = (r: Record<string, unknown>, i: number) => String(r.point ?? `SAE ${i + 1}`);
  const plot = (key: string, yLabel: string) =>
    frontierChart({
      title: `L0 vs ${yLabel}`,
      xLabel: "L0 (active latents per token)",
      yLabel,
      points: rows.map((r, i): FrontierPoint => ({
        label: label(r, i),
        x: Number(r.l0),
        y: typeof r[key] === "number" ? r[key] as number : NaN,
        href: href(r),
      })),
    });
  const body = rows.map((r, i) => {
    const cells = COLUMNS.map(([k]) =>
      `<td data-col="${k}">${k === "point" ? escapeXml(label(r, i)) : cell(r[k])}</td>`
    );
    const link = href(r) ? `<a href="${escapeXml(href(r)!)}">dashboard</a>` : "–";
    return `<tr data-point="${escapeXml(label(r, i))}">${cells.join("")}<td>${link}</td></tr>`;
  }).join("\n");
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sweep ${escapeXml(runId)}</title>
<style>
body { font-family: sans-serif; margin: 24px; color: #111827; }
table { border-collapse: collapse; margin: 16px 0; }
th, td { border-bottom: 1px solid #e5e7eb; padding: 4px 10px; text-align: left; font-size: 13px; }
th { background: #f3f4f6; }
.plots { display: flex; flex-wrap: wrap; gap: 16px; }
figure { margin: 0; }
</style></head>
<body>
<h1>Sweep ${escapeXml(runId)}: ${rows.length} SAE(s)</h1>
<p>Red markers and line: the Pareto frontier (no other SAE has both a lower L0 and a higher score). Click a marker
or a row's link for that SAE's dashboard. The same rows: <code>deno task query --run ${
    escapeXml(runId)
  } "SELECT * FROM saes"</code>.</p>
<div class="plots">
<figure id="frontier-ev">${plot("explained_variance", "explained variance")}</figure>
<figure id="frontier-downstream">${plot("downstream_fraction_recovered_zero", "downstream fidelity")}</figure>
</div>
<table id="saes"><thead><tr>${COLUMNS.map(([, h]) => `<th>${escapeXml(h)}</th>`).join("")}<th></th></tr></thead>
<tbody>
${body}
</tbody></table>
</body></html>
`;
  const path = join(dir, "index.html");
  const tmp = `${path}.${Deno.pid}.tmp`;
  await Deno.writeTextFile(tmp, html);
  await Deno.rename(tmp, path);
  return path;
}
