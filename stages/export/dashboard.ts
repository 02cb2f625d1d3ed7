/**
 * The static dashboard: `dashboard/index.html` opens straight from disk (file://, no network):
 * - index.html: the summary and plots rendered here as static HTML/SVG, plus the inlined app script/style;
 * - data.js: `globalThis.SAE = {...}`, the latent table as columns (numbers at 4 significant digits);
 * - examples/NNNN.js: per chunk of latents, their activation histograms and example contexts, loaded on
 *   demand with a `<script>` tag (fetch() is blocked on file://). Tokens are indices into the chunk's
 *   string table (base64 u16/u32), activations are u8 quantised against the latent's largest example
 *   activation (base64), so 8192 latents × 15 contexts stay a few MB and the page loads only data.js.
 * All output is a pure function of the inputs (no timestamps), so identical inputs give identical bytes.
 */
import type { Columns, ExampleRow } from "./inputs.ts";
import type { LatentColumn } from "./eval_columns.ts";
import type { DownstreamResult, EvalJson } from "../evaluate/eval_json.ts";
import { escapeXml } from "./svg.ts";

export interface DashboardInput {
  title: string;
  /** Label/value pairs shown first (architecture, d_sae, k, hook ...). */
  info: [string, string | number][];
  /** eval.json (any shape; headline metrics are found by name, every scalar is listed). */
  evalJson: Record<string, unknown> | null;
  /** SVG plots by name, inlined in order. */
  plots: [string, string][];
  latents: Columns | null;
  dSae: number;
  /** Examples of latents < latentCap, grouped in order. */
  examples: ExampleRow[];
  /** Latents shown (the rest are left out of the dashboard). */
  latentCap: number;
  chunkSize?: number;
  /** Probe associations and absorption roles per latent (latent_cards.ts), shown on each latent's card. */
  cards?: Record<number, [string, string][]>;
  /** Why no card has top boosted / suppressed tokens (an encoder without an unembedding); null when they do. */
  topTokensNote?: string | null;
  /** Extra summary HTML (the sparse probing and absorption sections). */
  supervisedHtml?: string;
}

/** Headline metrics: [eval.json key (evaluate's EvalJson), label]. */
const HEADLINE: [keyof EvalJson, string][] = [
  ["mse", "MSE"],
  ["explained_variance", "Explained variance"],
  ["l0", "L0"],
  ["dead_latents", "Dead latents"],
  ["dense_latents", "Dense latents"],
  ["cosine_similarity", "Cosine similarity"],
  ["n_tokens", "Held-out tokens"],
];

/** Every finite number / string / boolean leaf of a JSON value, as [dotted path, value]. */
export function flattenScalars(v: unknown, prefix = ""): [string, number | string | boolean][] {
  if (v === null || v === undefined) return [];
  if (typeof v === "number") return Number.isFinite(v) ? [[prefix, v]] : [];
  if (typeof v === "string" || typeof v === "boolean") return [[prefix, v]];
  if (Array.isArray(v)) return [];
  return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) =>
    flattenScalars(x, prefix ? `${prefix}.${k}` : k)
  );
}

/** The headline metrics present in eval.json: [key, label, path, value] (path = the key: they are top-level). */
export function headlineMetrics(evalJson: Record<string, unknown> | null): [string, string, string, number][] {
  return HEADLINE.flatMap(([key, label]): [string, string, string, number][] => {
    const v = evalJson?.[key];
    return typeof v === "number" && Number.isFinite(v) ? [[key, label, key, v]] : [];
  });
}

/**
 * Downstream-fidelity numbers: every number under eval.json's `downstream` (evaluate's DownstreamResult)
 * except the raw zero/mean-ablation runs (those stay in the full metrics table).
 */
export function downstreamMetrics(evalJson: Record<string, unknown> | null): [string, number][] {
  const DOWNSTREAM: keyof EvalJson = "downstream";
  const ablations: (keyof DownstreamResult)[] = ["zero_ablation", "mean_ablation"];
  return flattenScalars({ [DOWNSTREAM]: evalJson?.[DOWNSTREAM] }).filter(([p, v]) =>
    typeof v === "number" && !ablations.some((a) => p.startsWith(`${DOWNSTREAM}.${a}.`))
  ) as [string, number][];
}

/** A number for display: integers as is, others at 4 significant digits. */
export function fmt(v: number): string {
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(3) : String(+v.toPrecision(4));
}

function round4(v: unknown): unknown {
  if (typeof v === "number") return Number.isFinite(v) ? (Number.isInteger(v) ? v : +v.toPrecision(4)) : null;
  if (typeof v === "bigint") return Number(v);
  return v ?? null;
}

function b64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** JSON inside a <script>: no `</script` can close the tag early. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replaceAll("</", "<\\/").replaceAll("\u2028", "\\u2028").replaceAll("\u2029", "\\u2029");
}

interface LatentTable {
  n: number;
  cols: { name: string; kind: "num" | "str"; v: unknown[] }[];
  /** Columns shown in the list (the rest appear in the detail view). */
  list: string[];
  hist: string | null;
}

/** The latents.parquet histogram column and the columns of the latent list, after the id (evaluate's names). */
const ACT_HIST: LatentColumn = "act_hist";
const LIST_COLUMNS: LatentColumn[] = ["frequency", "max_activation", "mean_activation", "top_tag", "top_genre"];

function latentTable(latents: Columns | null, cap: number, topTokens: Map<number, string>): LatentTable {
  const n = cap;
  const cols: LatentTable["cols"] = [];
  const ids = latents?.latent as number[] | undefined;
  // Row of each latent id (the parquet is ordered by latent, but do not rely on it).
  const rowOf = new Map<number, number>();
  ids?.forEach((id, r) => rowOf.set(Number(id), r));
  cols.push({ name: "latent", kind: "num", v: Array.from({ length: n }, (_, i) => i) });
  let hist: string | null = null;
  for (const [name, values] of Object.entries(latents ?? {})) {
    if (name === "latent") continue;
    const sample = values.find((x) => x !== null && x !== undefined);
    if (Array.isArray(sample)) {
      if (name === ACT_HIST) hist = name;
      continue;
    }
    const kind = typeof sample === "string" ? "str" : "num";
    cols.push({
      name,
      kind,
      v: Array.from({ length: n }, (_, i) => round4(rowOf.has(i) ? values[rowOf.get(i)!] : null)),
    });
  }
  cols.push({ name: "top_tokens", kind: "str", v: Array.from({ length: n }, (_, i) => topTokens.get(i) ?? "") });
  const names = cols.map((c) => c.name);
  const list = ["latent", ...LIST_COLUMNS.filter((c) => names.includes(c)), "top_tokens"];
  return { n, cols, list, hist };
}

/** Up to 3 most frequent centre tokens of a latent's top examples, e.g. " the | a". */
function topTokensOf(examples: ExampleRow[]): Map<number, string> {
  const out = new Map<number, string>();
  let i = 0;
  while (i < examples.length) {
    const latent = examples[i].latent;
    const counts = new Map<string, number>();
    for (; i < examples.length && examples[i].latent === latent; i++) {
      const e = examples[i];
      if (e.kind !== "top") continue;
      const t = (e.tokens[e.center] ?? "").replaceAll("\n", "\u23ce").replaceAll("\t", "\u21e5");
      counts.set(t, (counts.get(t) ?? 0) + 1);
    }
    const best = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 3).map(([t]) => t);
    out.set(latent, best.join(" | "));
  }
  return out;
}

/** The chunk files' contents: name -> JS source. */
function exampleChunks(
  examples: ExampleRow[],
  latents: Columns | null,
  histCol: string | null,
  n: number,
  chunkSize: number,
): Map<string, string> {
  const byLatent = new Map<number, ExampleRow[]>();
  for (const e of examples) {
    if (!byLatent.has(e.latent)) byLatent.set(e.latent, []);
    byLatent.get(e.latent)!.push(e);
  }
  const names = Object.keys(latents ?? {});
  const rowOf = new Map<number, number>();
  (latents?.latent as number[] | undefined)?.forEach((id, r) => rowOf.set(Number(id), r));
  const has = (c: LatentColumn) => names.includes(c) ? c : null;
  const hiCol = has("act_hist_max"), maxCol = has("max_activation");
  const num = (col: string | null, r: number | undefined) =>
    col && r !== undefined && typeof latents![col][r] === "number" ? latents![col][r] as number : null;
  const out = new Map<string, string>();
  for (let c0 = 0; c0 < n; c0 += chunkSize) {
    const strings: string[] = [], stringId = new Map<string, number>();
    const kinds: string[] = [], kindId = new Map<string, number>();
    const rows: unknown[] = [];
    const tokIdx: number[][] = [];
    for (let l = c0; l < Math.min(n, c0 + chunkSize); l++) {
      const r = rowOf.get(l);
      const hist = histCol && r !== undefined ? (latents![histCol][r] as number[] | null) : null;
      const lo = 0, hi = num(hiCol, r) ?? num(maxCol, r) ?? null; // act_hist covers (0, act_hist_max]
      const exs = byLatent.get(l) ?? [];
      let scale = 0;
      for (const e of exs) for (const a of e.acts) scale = Math.max(scale, a);
      const exRows = exs.map((e) => {
        if (!kindId.has(e.kind)) kindId.set(e.kind, kinds.push(e.kind) - 1);
        const ids = e.tokens.map((t) => {
          const s = t ?? "";
          if (!stringId.has(s)) stringId.set(s, strings.push(s) - 1);
          return stringId.get(s)!;
        });
        tokIdx.push(ids);
        const q = new Uint8Array(e.acts.length);
        e.acts.forEach((a, i) => (q[i] = scale > 0 ? Math.round(Math.max(0, a) / scale * 255) : 0));
        const qv = e.quantile === null ? null : +e.quantile.toPrecision(4);
        return [kindId.get(e.kind), e.center, +e.acts[e.center].toPrecision(4), null, b64(q), qv, e.note];
      });
      rows.push([l, +scale.toPrecision(6), hist ? hist.map((x) => round4(x)) : null, round4(lo), round4(hi), exRows]);
    }
    // Token indices are packed once the chunk's string table size (hence u16 vs u32) is known.
    const wide = strings.length > 0xffff;
    let t = 0;
    for (const row of rows as unknown[][]) {
      for (const ex of row[5] as unknown[][]) {
        const ids = tokIdx[t++];
        const arr = wide ? new Uint32Array(ids) : new Uint16Array(ids);
        ex[3] = b64(new Uint8Array(arr.buffer));
      }
    }
    const id = String(c0 / chunkSize).padStart(4, "0");
    out.set(
      `${id}.js`,
      `SAE_CHUNK(${c0 / chunkSize},${scriptJson({ w: wide ? 4 : 2, s: strings, k: kinds, l: rows })});\n`,
    );
  }
  return out;
}

function summaryHtml(input: DashboardInput): string {
  const rows = (items: [string, string, string][]) =>
    items.map(([label, value, attrs]) =>
      `<div class="stat"${attrs}><span class="k">${escapeXml(label)}</span><span class="v">${
        escapeXml(value)
      }</span></div>`
    ).join("\n");
  const info = rows(
    input.info.map(([k, v]) => [k, typeof v === "number" ? fmt(v) : v, ` data-info="${escapeXml(k)}"`]),
  );
  const head = rows(
    headlineMetrics(input.evalJson).map(([key, label, path, v]) => [
      label,
      fmt(v),
      ` data-metric="${key}" data-path="${escapeXml(path)}" data-value="${v}"`,
    ]),
  );
  const down = downstreamMetrics(input.evalJson);
  const downHtml = down.length
    ? rows(
      down.map((
        [p, v],
      ) => [p.replace(/^downstream[._]?/, ""), fmt(v), ` data-downstream="${escapeXml(p)}" data-value="${v}"`]),
    )
    : `<div class="muted">no downstream-fidelity metrics in eval.json</div>`;
  const all = flattenScalars(input.evalJson ?? {}).map(([p, v]) =>
    `<tr><td>${escapeXml(p)}</td><td>${escapeXml(typeof v === "number" ? fmt(v) : String(v))}</td></tr>`
  ).join("");
  return `<section id="summary"><h2>Summary</h2><div class="stats">${info}</div>
<h3>Reconstruction (held-out)</h3><div class="stats">${head || `<div class="muted">no eval.json</div>`}</div>
<h3>Downstream fidelity</h3><div class="stats">${downHtml}</div>
<details><summary>All evaluation metrics</summary><table class="all">${all}</table></details></section>`;
}

/** Build every dashboard file: name (relative to the dashboard dir) -> content. */
export async function buildDashboard(input: DashboardInput): Promise<Map<string, string>> {
  const chunkSize = input.chunkSize ?? 256;
  const n = Math.min(input.latentCap, input.dSae);
  const examples = input.examples.filter((e) => e.latent < n);
  const table = latentTable(input.latents, n, topTokensOf(examples));
  const files = new Map<string, string>();
  const data = {
    n,
    chunk: chunkSize,
    d_sae: input.dSae,
    cols: table.cols,
    list: table.list,
    hasExamples: examples.length > 0,
    cards: Object.fromEntries(Object.entries(input.cards ?? {}).filter(([l]) => Number(l) < n)),
    topTokensNote: input.topTokensNote ?? null,
  };
  files.set("data.js", `globalThis.SAE = ${scriptJson(data)};\n`);
  for (const [name, src] of exampleChunks(examples, input.latents, table.hist, n, chunkSize)) {
    files.set(`examples/${name}`, src);
  }
  const [css, js] = await Promise.all([
    Deno.readTextFile(new URL("./dashboard/style.css", import.meta.url)),
    Deno.readTextFile(new URL("./dashboard/app.js", import.meta.url)),
  ]);
  const plots = input.plots.map(([name, svg]) =>
    `<figure data-plot="${escapeXml(name)}">${svg.replace(/^<\?xml[^>]*>\s*/, "")}</figure>`
  ).join("\n");
  const capNote = n < input.dSae ? ` (first ${n} of ${input.dSae} shown)` : "";
  files.set(
    "index.html",
    `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeXml(input.title)}</title>
<style>
${css}</style></head>
<body>
<header><h1>${escapeXml(input.title)}</h1></header>
<main>
${summaryHtml(input)}
${input.supervisedHtml ?? ""}
<section id="plots"><h2>Training and density</h2><div class="plots">
${plots}
</div></section>
<section id="latents"><h2>Latents${escapeXml(capNote)}</h2>
<div class="latent-ui">
<div class="list-pane">
<input id="search" type="search" placeholder="Search: latent id, tag, genre, token…" autocomplete="off">
<div id="count" class="muted"></div>
<div id="list-head" class="row head"></div>
<div id="list"><div id="list-spacer"></div></div>
</div>
<div id="detail" class="detail-pane"><div class="muted">Click a latent to see its activation histogram and examples.</div></div>
</div></section>
</main>
<script src="data.js"></script>
<script>
${js}</script>
</body></html>
`,
  );
  return files;
}

/** Write the dashboard files under `dir`. */
export async function writeDashboard(dir: string, input: DashboardInput): Promise<void> {
  const files = await buildDashboard(input);
  await Deno.mkdir(`${dir}/examples`, { recursive: true });
  for (const [name, content] of files) await Deno.writeTextFile(`${dir}/${name}`, content);
}
