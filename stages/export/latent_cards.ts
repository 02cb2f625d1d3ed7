/**
 * What the supervised metrics say about single latents, for the dashboard's latent cards, and the summary
 * sections of sparse probing and absorption. Inputs are evaluate's `probes.parquet` and `absorption.parquet`
 * as columns (either may be missing: older evaluate outputs have neither).
 *   probe association: latent l is the r-th latent chosen by |mean difference| for task T (from the k = 20 SAE
 *     probe's latent list), with that difference and the accuracy of T's 1-latent probe when r = 1;
 *   absorption role: main latent of letter L, or absorbing latent of L on N test tokens.
 */
import { escapeXml } from "./svg.ts";
import type { Columns } from "./inputs.ts";

/** Card lines per latent: [kind, text]. */
export type LatentCards = Record<number, [string, string][]>;

function rowsOf(cols: Columns | null): Record<string, unknown>[] {
  if (!cols) return [];
  const names = Object.keys(cols), n = names.length ? cols[names[0]].length : 0;
  return Array.from({ length: n }, (_, i) => Object.fromEntries(names.map((c) => [c, cols[c][i]])));
}

const num = (v: unknown) => (typeof v === "number" && !Number.isInteger(v) ? +v.toPrecision(3) : v);

export function latentCards(probes: Columns | null, absorption: Columns | null): LatentCards {
  const cards: LatentCards = {};
  const add = (l: number, kind: string, text: string) => (cards[l] ??= []).push([kind, text]);
  const rows = rowsOf(probes).filter((r) => r.method === "sae");
  const k1 = new Map(rows.filter((r) => r.k === 1).map((r) => [`${r.task}/${r.label}`, r.accuracy]));
  const widest = new Map<string, Record<string, unknown>>();
  for (const r of rows) {
    const key = `${r.task}/${r.label}`, w = widest.get(key);
    if (!w || (r.k as number) > (w.k as number)) widest.set(key, r);
  }
  for (const [key, r] of [...widest].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const lat = (r.latents as number[] | null) ?? [], diff = (r.mean_diff as number[] | null) ?? [];
    lat.forEach((l, i) => {
      const acc = i === 0 && k1.has(key) ? `; 1-latent probe accuracy ${num(k1.get(key))}` : "";
      add(l, "probe", `${r.task} ${r.label}: #${i + 1} by |mean difference| (${num(diff[i])})${acc}`);
    });
  }
  for (const r of rowsOf(absorption)) {
    for (const l of (r.main_latents as number[] | null) ?? []) {
      add(l, "absorption", `main latent of first letter '${r.letter}'`);
    }
    const counts = (r.absorber_counts as number[] | null) ?? [];
    ((r.absorbers as number[] | null) ?? []).forEach((l, i) =>
      add(l, "absorption", `absorbs first letter '${r.letter}' on ${counts[i]} test token(s)`)
    );
  }
  return cards;
}

function table(head: string[], body: unknown[][]): string {
  const td = (v: unknown) => `<td>${escapeXml(v === null || v === undefined ? "" : String(num(v)))}</td>`;
  return `<table class="all"><tr>${head.map((h) => `<th>${escapeXml(h)}</th>`).join("")}</tr>${
    body.map((r) => `<tr>${r.map(td).join("")}</tr>`).join("")
  }</table>`;
}

/** The "Sparse probing" and "Feature absorption" summary sections (empty string when there is nothing). */
export function supervisedHtml(
  evalJson: Record<string, unknown> | null,
  probes: Columns | null,
  absorption: Columns | null,
): string {
  let html = "";
  const sp = evalJson?.sparse_probing as Record<string, Record<string, { accuracy: number; f1: number }>> | undefined;
  const prows = rowsOf(probes);
  if (sp && prows.length) {
    const ks = [...new Set(prows.filter((r) => r.k !== null).map((r) => r.k as number))].sort((a, b) => a - b);
    const body: unknown[][] = [];
    for (const task of ["pos", "genre"]) {
      const s = sp[task];
      if (!s || !s.raw) continue;
      for (const m of ["sae", "random"]) {
        body.push([task, m, ...ks.map((k) => s[`${m}_top_${k}`]?.accuracy), null]);
      }
      body.push([task, "raw (all d_in)", ...ks.map(() => null), s.raw.accuracy]);
    }
    const per = prows.filter((r) => r.method === "sae" && r.k === 1).map((r) => {
      const raw = prows.find((q) => q.task === r.task && q.label === r.label && q.method === "raw");
      return [r.task, r.label, r.n_train, r.n_test, r.accuracy, r.f1, raw?.accuracy, (r.latents as number[])[0]];
    });
    html += `<h3>Sparse probing (held-out test accuracy, mean over tasks)</h3>` +
      table(["task", "probe", ...ks.map((k) => `k=${k}`), "raw"], body) +
      `<details><summary>Per class</summary>${
        table(["task", "label", "train", "test", "k=1 accuracy", "k=1 F1", "raw accuracy", "top latent"], per)
      }</details>`;
  }
  const ab = evalJson?.absorption as Record<string, number> | null | undefined;
  const arows = rowsOf(absorption);
  if (ab && arows.length) {
    html += `<h3>Feature absorption (first letter)</h3><div class="stats">${
      [
        ["mean absorption fraction", ab.mean_absorption_fraction],
        [
          "mean full-absorption rate",
          ab.mean_full_absorption_rate,
        ],
        ["mean main latents", ab.mean_main_latents],
        ["letters", ab.letters],
      ].map(([k, v]) =>
        `<div class="stat" data-absorption="${escapeXml(String(k))}"><span class="k">${
          escapeXml(String(k))
        }</span><span class="v">${escapeXml(String(num(v)))}</span></div>`
      ).join("")
    }</div><details><summary>Per letter</summary>${
      table(
        ["letter", "probe F1", "true positives", "main latents", "absorption fraction", "full rate", "absorbers"],
        arows.map((r) => [
          r.letter,
          r.probe_f1,
          r.true_positives,
          ((r.main_latents as number[]) ?? []).join(" "),
          r.mean_absorption_fraction,
          r.full_absorption_rate,
          ((r.absorbers as number[]) ?? []).slice(0, 5).join(" "),
        ]),
      )
    }</details>`;
  }
  return html ? `<section id="supervised"><h2>What latents mean</h2>${html}</section>` : "";
}
