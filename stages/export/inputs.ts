/**
 * Read the export stage's upstream outputs (stages/CONTRACTS.md): files other than the SAE weights may be
 * missing and the export still writes what it can; columns are read by the names evaluate writes.
 * Parquet is read column-wise through DuckDB; examples are capped per latent in SQL so a large
 * `examples.parquet` never materialises more rows than the dashboard shows.
 */
import { withDuckDB } from "../io/parquet.ts";
import { readSafetensors, type Tensor } from "../io/safetensors.ts";
import { ignoreMissing } from "../../pipeline/missing.ts";
import type { ExampleColumn } from "./eval_columns.ts";

/** A table as columns: name -> values (numbers, strings, arrays or null). */
export type Columns = Record<string, unknown[]>;

export interface ExampleRow {
  latent: number;
  /** "top" or a lower-quantile label. */
  kind: string;
  tokens: string[];
  acts: number[];
  /** Index in the window of the token the example is about (the max activation when not given). */
  center: number;
  /** The quantile of the latent's firing distribution the example was drawn at (lower-quantile examples). */
  quantile: number | null;
  /** Where the example comes from, e.g. "doc cc17 · tag NN · genre religion" (empty when unknown). */
  note: string;
}

export interface ExportInputs {
  trainCfg: Record<string, unknown>;
  weights: Record<string, Tensor>;
  trainLog: Columns | null;
  trainSummary: Record<string, unknown> | null;
  evalJson: Record<string, unknown> | null;
  latents: Columns | null;
  pretokenizeMeta: Record<string, unknown> | null;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    ignoreMissing(e);
    return false;
  }
}

async function readJson(path: string): Promise<Record<string, unknown> | null> {
  if (!(await exists(path))) return null;
  return JSON.parse(await Deno.readTextFile(path));
}

function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

function plain(v: unknown): unknown {
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v)) return v.map(plain);
  return v;
}

/** Read a Parquet file as columns (BIGINT -> number); null when the file is absent. */
export async function readColumns(path: string, where = ""): Promise<Columns | null> {
  if (!(await exists(path))) return null;
  return await withDuckDB(async (con) => {
    const r = await con.runAndReadAll(`SELECT * FROM read_parquet(${sqlString(path)}) ${where}`);
    const cols = r.getColumnsObjectJS() as Record<string, unknown[]>;
    for (const k of Object.keys(cols)) cols[k] = cols[k].map(plain);
    return cols;
  });
}

export async function readExportInputs(inputs: Record<string, string>): Promise<ExportInputs> {
  const train = inputs.train, evaluate = inputs.evaluate, pretok = inputs.pretokenize;
  if (!train) throw new Error("export: no train input directory");
  const trainCfg = await readJson(`${train}/cfg.json`);
  if (!trainCfg) throw new Error(`export: ${train}/cfg.json is missing`);
  const weights = (await readSafetensors(`${train}/sae_weights.safetensors`)).tensors;
  return {
    trainCfg,
    weights,
    trainLog: await readColumns(`${train}/train_log.parquet`, "ORDER BY step"),
    trainSummary: await readJson(`${train}/train_summary.json`),
    evalJson: evaluate ? await readJson(`${evaluate}/eval.json`) : null,
    latents: evaluate ? await readColumns(`${evaluate}/latents.parquet`, "ORDER BY latent") : null,
    pretokenizeMeta: pretok ? await readJson(`${pretok}/meta.json`) : null,
  };
}

/**
 * Examples for latents < `maxLatent`, at most `perTop` top examples and `perQuantile` of each other kind
 * per latent, best first (by rank), read by the column names evaluate writes (EXAMPLES_SCHEMA).
 */
export async function readExamples(
  path: string,
  maxLatent: number,
  perTop: number,
  perQuantile: number,
): Promise<ExampleRow[]> {
  if (!(await exists(path))) return [];
  return await withDuckDB(async (con) => {
    const src = `read_parquet(${sqlString(path)})`;
    const desc = (await con.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`)).getRowObjectsJS();
    const names = new Set(desc.map((d) => String(d.column_name)));
    const col = (c: ExampleColumn) => c;
    const needed = [col("latent"), col("kind"), col("rank"), col("tokens"), col("acts"), col("center")];
    const notes = [col("doc"), col("tag"), col("genre")];
    const lacking = [...needed, col("quantile"), ...notes].filter((c) => !names.has(c));
    if (lacking.length) {
      throw new Error(`export: ${path} lacks the evaluate column(s) ${lacking.join(", ")}; re-run evaluate`);
    }
    const noteExpr = `concat_ws(' · ', ${
      notes.map((n) => `CASE WHEN "${n}" IS NULL THEN NULL ELSE '${n} ' || "${n}" END`).join(", ")
    })`;
    const sql = `SELECT CAST("latent" AS INTEGER) AS latent, "kind" AS kind, "tokens" AS tokens, ` +
      `CAST("acts" AS DOUBLE[]) AS acts, CAST("center" AS INTEGER) AS center, ` +
      `CAST("quantile" AS DOUBLE) AS quantile, ${noteExpr} AS note FROM ${src} WHERE "latent" < ${maxLatent} ` +
      `QUALIFY row_number() OVER (PARTITION BY "latent", "kind" ORDER BY "rank" ASC) <= ` +
      `CASE WHEN "kind" = 'top' THEN ${perTop} ELSE ${perQuantile} END ` +
      `ORDER BY latent, kind = 'top' DESC, kind, "rank" ASC`;
    const rows = (await con.runAndReadAll(sql)).getRowObjectsJS();
    return rows.map((r) => {
      const a = (r.acts as number[]).map((x) => (Number.isFinite(x) ? x : 0));
      let c = r.center === null ? -1 : Number(r.center);
      if (!(c >= 0 && c < a.length)) c = a.reduce((best, x, i) => (x > a[best] ? i : best), 0);
      return {
        latent: Number(r.latent),
        kind: String(r.kind),
        tokens: r.tokens as string[],
        acts: a,
        center: c,
        quantile: typeof r.quantile === "number" ? r.quantile : null,
        note: r.note ? String(r.note) : "",
      };
    });
  });
}
