/**
 * The SQL views over a run's results:
 *   saes        one row per SAE of the run (per sweep point): params, eval metrics, paths (saes.ts)
 *   latents     evaluate/latents.parquet, one row per latent
 *   examples    evaluate/examples.parquet, top and quantile examples per latent
 *   probes      evaluate/probes.parquet, one row per sparse probe (task, label, method sae|random|raw, k)
 *   absorption  evaluate/absorption.parquet, one row per first letter (main latents, absorption rates)
 *   eval        evaluate/eval.json (one row; nested fields as structs: eval.downstream.fraction_recovered_zero)
 *   train_log   train/train_log.parquet, one row per logged step
 *   runs        the engine's runs.ndjson, every stage of every run (params and inputs as JSON)
 *   stages      the resolved run: stage, dir
 *   tokens      one row per token position of pretokenize's tokens.bin: i, seq, pos, token, piece, text,
 *               doc, genre, tag, pad, split ('train' | 'heldout' | null) — built in memory from the typed
 *               files (DataChunks), only when a query mentions it
 */
import { join } from "node:path";
import { TokenCorpus } from "../evaluate/token_corpus.ts";
import type { ResolvedRun } from "./resolve_run.ts";
import { createTableFromColumns } from "./typed_ingest.ts";
import { ignoreMissing } from "../../pipeline/missing.ts";
import { createSaesView } from "./saes.ts";

type Connection = Parameters<typeof createTableFromColumns>[0];

export const VIEW_NAMES = [
  "saes",
  "latents",
  "examples",
  "probes",
  "absorption",
  "eval",
  "train_log",
  "runs",
  "stages",
  "tokens",
] as const;

export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
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

/**
 * Create the views that the run has files for; returns the view names created and, for the others, why
 * not (`missing`). `tokens` is built only when `withTokens`.
 */
export async function createViews(
  con: Connection,
  run: ResolvedRun,
  store: string,
  withTokens: boolean,
): Promise<{ views: string[]; missing: Record<string, string> }> {
  const views: string[] = [], missing: Record<string, string> = {};
  if (await createSaesView(con, store, run.run_id)) views.push("saes");
  else missing.saes = `run ${run.run_id} trained no SAE`;
  const file = async (view: string, stage: string, name: string, reader: (p: string) => string) => {
    const dir = run.stages[stage];
    const path = dir ? join(dir, name) : null;
    if (!path || !(await exists(path))) {
      missing[view] = dir ? `${stage} output has no ${name}` : `run ${run.run_id} has no ${stage} stage`;
      return;
    }
    await con.run(`CREATE OR REPLACE VIEW ${view} AS SELECT * FROM ${reader(sqlString(path))}`);
    views.push(view);
  };
  await file("latents", "evaluate", "latents.parquet", (p) => `read_parquet(${p})`);
  await file("examples", "evaluate", "examples.parquet", (p) => `read_parquet(${p})`);
  await file("probes", "evaluate", "probes.parquet", (p) => `read_parquet(${p})`);
  await file("absorption", "evaluate", "absorption.parquet", (p) => `read_parquet(${p})`);
  await file("eval", "evaluate", "eval.json", (p) => `read_json(${p}, maximum_depth = -1)`);
  await file("train_log", "train", "train_log.parquet", (p) => `read_parquet(${p})`);
  const runsFile = join(store, "runs.ndjson");
  if (await exists(runsFile)) {
    const cols =
      "run_id: 'VARCHAR', stage: 'VARCHAR', key: 'VARCHAR', status: 'VARCHAR', reason: 'VARCHAR', params: 'JSON', " +
      "inputs: 'JSON', output_hash: 'VARCHAR', started: 'VARCHAR', duration_s: 'DOUBLE', error: 'VARCHAR'";
    await con.run(
      `CREATE OR REPLACE VIEW runs AS SELECT * FROM read_json(${sqlString(runsFile)}, format = 'newline_delimited', ` +
        `columns = {${cols}}, ignore_errors = true)`,
    );
    views.push("runs");
  } else missing.runs = `no ${runsFile}`;
  const entries = Object.entries(run.stages);
  await createTableFromColumns(con, "stages", {
    stage: entries.map(([s]) => s),
    dir: entries.map(([, d]) => d),
    run_id: entries.map(() => run.run_id),
  });
  views.push("stages");
  if (!run.stages.pretokenize) missing.tokens = `run ${run.run_id} has no pretokenize stage`;
  else if (withTokens) {
    await createTokensView(con, run.stages.pretokenize, run.stages.extract ?? null);
    views.push("tokens");
  }
  return { views, missing };
}

/** The `tokens` view: typed per-token columns through DataChunks, names joined from small tables. */
async function createTokensView(con: Connection, pretokenizeDir: string, extractDir: string | null): Promise<void> {
  const c = await TokenCorpus.load(pretokenizeDir);
  const split = new Uint8Array(c.tokens.length); // 0 none, 1 train, 2 heldout
  if (extractDir && (await exists(join(extractDir, "meta.json")))) {
    const meta = JSON.parse(await Deno.readTextFile(join(extractDir, "meta.json")));
    for (const [name, code] of [["train", 1], ["heldout", 2]] as const) {
      for (const shard of meta.splits?.[name]?.shards ?? []) {
        const rows = new Uint32Array((await Deno.readFile(join(extractDir, shard.rows))).buffer);
        for (const r of rows) if (r < split.length) split[r] = code;
      }
    }
  }
  await createTableFromColumns(con, "_tokens", {
    i: Uint32Array.from({ length: c.tokens.length }, (_, i) => i),
    token: c.tokens,
    doc: c.doc,
    tag: c.tag,
    genre: c.genre,
    split,
  });
  await createTableFromColumns(con, "_vocab", {
    id: Uint32Array.from(c.vocab, (_, i) => i),
    piece: c.vocab,
    text: c.texts,
  });
  await createTableFromColumns(con, "_docs", {
    d: Uint32Array.from(c.docs, (_, i) => i),
    id: c.docs.map((d) => String(d.id)),
  });
  await createTableFromColumns(con, "_tags", { t: Uint16Array.from(c.meta.tags, (_, i) => i), name: c.meta.tags });
  await createTableFromColumns(con, "_genres", { g: Uint8Array.from(c.meta.genres, (_, i) => i), name: c.meta.genres });
  const S = c.contextSize, pad = c.meta.pad_token_id;
  await con.run(`CREATE OR REPLACE VIEW tokens AS
    SELECT r.i, r.i // ${S} AS seq, r.i % ${S} AS pos, r.token, v.piece, v.text, d.id AS doc, g.name AS genre, t.name AS tag,
           (r.token = ${pad} AND r.doc = 4294967295) AS pad,
           CASE r.split WHEN 1 THEN 'train' WHEN 2 THEN 'heldout' END AS split
    FROM _tokens r
    LEFT JOIN _vocab v ON v.id = r.token
    LEFT JOIN _docs d ON d.d = r.doc
    LEFT JOIN _tags t ON t.t = r.tag
    LEFT JOIN _genres g ON g.g = r.genre`);
}
