/**
 * The `saes` view: one row per SAE of a run (per sweep point; a plain run has one, with point NULL):
 *   point, run_id, hook, every train param as its own column (k, expansion_factor, d_sae, lr, ...),
 *   the scalar metrics of evaluate's eval.json (explained_variance, l0, mse, dead_latents, ...),
 *   downstream fidelity as downstream_<field> (downstream_fraction_recovered_zero, ...),
 *   sparse probing as probe_<task>_<probe>_accuracy|f1 (probe_pos_sae_top_1_accuracy, probe_genre_raw_f1, ...)
 *   and absorption as absorption_<field> (absorption_mean_absorption_fraction, ...),
 *   train's own timing from its train_summary.json: train_seconds and train_tokens_per_second (measured when the
 *   object was trained, so a cached point keeps the time it took; NULL for a train object without a summary),
 *   the point's params of every stage as JSON (`params`), and the paths: train_dir, evaluate_dir, export_dir,
 *   dashboard, saelens.
 * Built from the run's records in runs.ndjson (the last successful record of each stage per point), so
 * every executor's sweep gives the same table.
 */
import { join } from "node:path";
import { readRunRecords, type RunRecord } from "../../pipeline/records.ts";
import { ignoreBadJson, ignoreMissing, isMissing } from "../../pipeline/missing.ts";

type Connection = { run(sql: string): Promise<unknown> };

function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

async function readJson(path: string): Promise<Record<string, unknown> | null> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (!isMissing(e)) ignoreBadJson(e);
    return null;
  }
}

/** One row per point of `runId` that trained an SAE. */
export async function saeRows(store: string, runId: string): Promise<Record<string, unknown>[]> {
  const byPoint = new Map<string, Map<string, RunRecord>>();
  for (const r of await readRunRecords(store)) {
    if (r.run_id !== runId || r.status === "failed") continue;
    const point = r.branch ?? "";
    if (!byPoint.has(point)) byPoint.set(point, new Map());
    byPoint.get(point)!.set(r.stage, r);
  }
  const rows: Record<string, unknown>[] = [];
  for (const [point, stages] of byPoint) {
    const train = stages.get("train");
    if (!train) continue;
    const dir = (stage: string) => stages.has(stage) ? join(store, "objects", stages.get(stage)!.key) : null;
    const row: Record<string, unknown> = {
      point: point || null,
      run_id: runId,
      hook: stages.get("extract")?.params.hook ?? null,
    };
    for (const [k, v] of Object.entries(train.params)) row[k] = v;
    const summary = dir("train") ? await readJson(join(dir("train")!, "train_summary.json")) : null;
    row.train_seconds = summary?.seconds ?? null;
    row.train_tokens_per_second = summary?.tokens_per_second ?? null;
    const ev = dir("evaluate") ? await readJson(join(dir("evaluate")!, "eval.json")) : null;
    for (const [k, v] of Object.entries(ev ?? {})) {
      if (k in row || (v !== null && typeof v === "object")) continue;
      row[k] = v;
    }
    const ds = ev?.downstream as Record<string, unknown> | null | undefined;
    for (const [k, v] of Object.entries(ds ?? {})) {
      if (v === null || typeof v !== "object") row[`downstream_${k}`] = v;
    }
    const probing = ev?.sparse_probing as Record<string, unknown> | null | undefined;
    for (const task of ["pos", "genre"]) {
      const scores = (probing?.[task] ?? {}) as Record<string, { accuracy: number; f1: number }>;
      for (const [probe, sc] of Object.entries(scores)) {
        row[`probe_${task}_${probe}_accuracy`] = sc.accuracy;
        row[`probe_${task}_${probe}_f1`] = sc.f1;
      }
    }
    const absorption = ev?.absorption as Record<string, unknown> | null | undefined;
    for (const [k, v] of Object.entries(absorption ?? {})) {
      if (v === null || typeof v !== "object") row[`absorption_${k}`] = v;
    }
    row.params = JSON.stringify(Object.fromEntries([...stages].map(([s, r]) => [s, r.params])));
    row.train_dir = dir("train");
    row.evaluate_dir = dir("evaluate");
    row.export_dir = dir("export");
    row.dashboard = dir("export") ? join(dir("export")!, "dashboard", "index.html") : null;
    row.saelens = dir("export") ? join(dir("export")!, "saelens") : null;
    rows.push(row);
  }
  return rows;
}

/** Create table `saes`; returns false (no table) when the run trained no SAE. */
export async function createSaesView(con: Connection, store: string, runId: string): Promise<boolean> {
  const rows = await saeRows(store, runId);
  if (rows.length === 0) return false;
  const tmp = await Deno.makeTempDir({ prefix: "saes_" });
  try {
    const file = join(tmp, "saes.ndjson");
    await Deno.writeTextFile(file, rows.map((r) => JSON.stringify(r)).join("\n") + "\n");
    // params is one JSON value (written as a string); every other column's type is inferred over all rows
    await con.run(
      `CREATE OR REPLACE TABLE saes AS SELECT * REPLACE (params::JSON AS params) FROM read_json(${
        sqlString(file)
      }, format = 'newline_delimited', sample_size = -1)`,
    );
  } finally {
    await Deno.remove(tmp, { recursive: true }).catch(ignoreMissing);
  }
  return true;
}
