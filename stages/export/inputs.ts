/**
 * Read the export stage's upstream outputs (stages/CONTRACTS.md) defensively: files other than the SAE
 * weights may be missing or have extra/renamed columns, and the export still writes what it can.
 * Parquet is read column-wise through DuckDB; examples are capped per latent in SQL so a large
 * `examples.parquet` never materialises more rows than the dashboard shows.
 */
import { withDuckDB } from "../io/parquet.ts";
import { readSafetensors, type Tensor } from "../io/safetensors.ts";

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
  } catch {
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

/** First column whose name matches one of the patterns (tried in order). */
export function findColumn(names: string[], ...patterns: RegExp[]): string | null {
  for (const p of patterns) {
    const hit = names.find((n) => p.test(n));
    if (hit) return hit;
  }
  return null;
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
 * per latent, best first. Column names are
 * found by pattern: a latent id, a list of token strings, a list of activations, optionally a kind
 * (top/quantile), a rank or activation to order by, and the centre position within the window.
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
    const types = Object.fromEntries(desc.map((d) => [String(d.column_name), String(d.column_type)]));
    const names = Object.keys(types);
    const q = (n: string) => `"${n.replaceAll('"', '""')}"`;
    const latent = findColumn(names, /^latent$/, /latent/);
    const tokens = names.find((n) => /^VARCHAR\[\]$/.test(types[n]));
    const acts = findColumn(
      names.filter((n) => /^(FLOAT|DOUBLE)\[\]$/.test(types[n])),
      /act/,
      /.*/,
    );
    if (!latent || !tokens || !acts) {
      throw new Error(
        `export: ${path} needs a latent column, a VARCHAR[] of tokens and a FLOAT[] of activations; has ${
          names.join(", ")
        }`,
      );
    }
    const kind = findColumn(names.filter((n) => types[n] === "VARCHAR"), /^kind$/, /kind|type|source|bucket|quantile/);
    const center = findColumn(
      names.filter((n) => /INT/.test(types[n])),
      /^(center|centre|target|focus)(_pos|_index|_idx)?$/,
      /(center|centre|target|focus)/,
      /^pos(ition)?$/,
    );
    const rank = findColumn(names.filter((n) => /INT/.test(types[n])), /^rank$/, /rank/);
    const value = findColumn(
      names.filter((n) => /^(FLOAT|DOUBLE)$/.test(types[n])),
      /^(activation|act|value|max_act)$/,
      /act/,
    );
    // "top", "top_n", "max" ... all count as the top examples; any other label is a lower-quantile group.
    const quantile = findColumn(names.filter((n) => /^(FLOAT|DOUBLE)$/.test(types[n])), /^quantile$/, /quantile/);
    const notes = ["doc", "tag", "genre"].filter((n) => types[n] === "VARCHAR");
    const noteExpr = notes.length
      ? `concat_ws(' · ', ${
        notes.map((n) => `CASE WHEN ${q(n)} IS NULL THEN NULL ELSE '${n} ' || ${q(n)} END`).join(", ")
      })`
      : `''`;
    const kindExpr = kind
      ? `CASE WHEN lower(${q(kind)}) LIKE 'top%' OR lower(${q(kind)}) = 'max' THEN 'top' ELSE CAST(${
        q(kind)
      } AS VARCHAR) END`
      : `'top'`;
    const order = rank ? `${q(rank)} ASC` : value ? `${q(value)} DESC` : `1`;
    const sql = `SELECT CAST(${q(latent)} AS INTEGER) AS latent, ${kindExpr} AS kind, ${q(tokens)} AS tokens, ` +
      `CAST(${q(acts)} AS DOUBLE[]) AS acts, ${center ? `CAST(${q(center)} AS INTEGER)` : "NULL"} AS center, ` +
      `${quantile ? `CAST(${q(quantile)} AS DOUBLE)` : "NULL"} AS quantile, ${noteExpr} AS note ` +
      `FROM ${src} WHERE ${q(latent)} < ${maxLatent} ` +
      `QUALIFY row_number() OVER (PARTITION BY ${
        q(latent)
      }, ${kindExpr} ORDER BY ${order}) <= CASE WHEN ${kindExpr} = 'top' THEN ${perTop} ELSE ${perQuantile} END ` +
      `ORDER BY latent, kind = 'top' DESC, kind, ${order}`;
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
