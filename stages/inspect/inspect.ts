/**
 * Inspect a text: tokenize it with the model's tokenizer (prepending the BOS token when pretokenize did),
 * run the model up to the SAE's hook in windows of the run's context size (padded like the extract stage's
 * sequences), encode every token with the SAE (float64 CPU reference) and, per token, report its `top`
 * strongest latents with their activation, held-out firing frequency and labels from the evaluate stage
 * (best POS tag and genre by F1, most frequent tokens of the top examples). With `topLogits > 0` and a
 * causal LM whose graph holds its unembedding, each latent also gets its top boosted / suppressed tokens
 * (W_dec[l] · W_U, model/logit_lens.ts); otherwise a one-line note says why not.
 */
import { join } from "node:path";
import * as ort from "onnxruntime-node";
import { withDuckDB } from "../io/parquet.ts";
import { findHook } from "../extract/hook.ts";
import { createSession, runForOutput } from "../extract/session.ts";
import { graphUpToHook } from "../extract/truncate.ts";
import { loadModelTokenizer } from "../pretokenize/tokenizer.ts";
import { resolveRun } from "../query/resolve_run.ts";
import { loadSae } from "../export/load.ts";
import { encode } from "../train/sae_cpu.ts";
import { findUnembedding } from "../model/unembedding.ts";
import { lensEntries, logitLens } from "../model/logit_lens.ts";

/** Output directories of the stages inspect reads (evaluate is optional: no frequencies or labels then). */
export interface InspectDirs {
  model: string;
  pretokenize?: string;
  extract: string;
  train: string;
  evaluate?: string;
}

export interface InspectOptions {
  text: string;
  /** Latents shown per token (default 5). */
  top?: number;
  /** Boosted/suppressed tokens per latent from W_dec · W_U (default 0 = off). */
  topLogits?: number;
}

export interface LatentInfo {
  latent: number;
  activation: number;
  frequency: number | null;
  top_tag: string | null;
  top_tag_f1: number | null;
  top_genre: string | null;
  top_tokens: string[];
  boosted?: { token: string; logit: number }[];
  suppressed?: { token: string; logit: number }[];
}

export interface InspectResult {
  model: string;
  hook: string;
  architecture: string;
  d_sae: number;
  tokens: { position: number; token_id: number; piece: string; latents: LatentInfo[] }[];
  /** One-line notes (e.g. why --top-logits was skipped). */
  notes: string[];
}

/** Inspect with the stage directories of the latest run in `store` (or run `run`). */
export async function inspectText(
  opts: InspectOptions & { store?: string; run?: string | null },
): Promise<InspectResult> {
  const run = await resolveRun(opts.store ?? "data/store", opts.run);
  const s = run.stages;
  for (const need of ["model", "extract", "train"]) {
    if (!s[need]) throw new Error(`run ${run.run_id} has no ${need} stage: run \`deno task pipeline\` first`);
  }
  return await inspectDirs(
    { model: s.model, pretokenize: s.pretokenize, extract: s.extract, train: s.train, evaluate: s.evaluate },
    opts,
  );
}

async function readJson(path: string): Promise<Record<string, unknown> | null> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

export async function inspectDirs(dirs: InspectDirs, opts: InspectOptions): Promise<InspectResult> {
  if (!opts.text.trim()) throw new Error("inspect: the text is empty");
  const top = opts.top ?? 5, notes: string[] = [];
  const meta = await readJson(join(dirs.extract, "meta.json"));
  if (!meta) throw new Error(`inspect: ${dirs.extract}/meta.json is missing (not an extract stage output)`);
  const pre = dirs.pretokenize ? await readJson(join(dirs.pretokenize, "meta.json")) : null;
  const { weights, cfg } = await loadSae(dirs.train);
  const tok = await loadModelTokenizer(dirs.model);
  const S = Number(meta.context_size);
  const bos = pre?.prepend_bos ? Number(pre.begin_batch_token_id ?? pre.bos_token_id) : null;
  const ids = tok.encode(opts.text);
  const modelBytes = await Deno.readFile(join(dirs.model, "onnx", "model.onnx"));
  const hook = findHook(dirs.model, modelBytes, String(meta.hook_name));
  if (hook.dIn !== cfg.d_in) {
    throw new Error(`inspect: hook ${hook.name} has width ${hook.dIn}, the SAE d_in ${cfg.d_in}`);
  }
  const session = await createSession(graphUpToHook(modelBytes, hook.tensor));

  // Windows of S positions: [bos] + up to S − 1 (or S) text tokens, padded with pad and masked.
  const perWindow = bos === null ? S : S - 1;
  const positions: { id: number; x: Float32Array }[] = [];
  for (let a = 0; a < ids.length; a += perWindow) {
    const w = [...(bos === null ? [] : [bos]), ...ids.slice(a, a + perWindow)];
    const inIds = new BigInt64Array(S).fill(BigInt(tok.special.pad)), mask = new BigInt64Array(S);
    w.forEach((t, i) => ((inIds[i] = BigInt(t)), (mask[i] = 1n)));
    const out = await runForOutput(session, {
      input_ids: new ort.Tensor("int64", inIds, [1, S]),
      attention_mask: new ort.Tensor("int64", mask, [1, S]),
    }, hook.tensor);
    w.forEach((t, i) => positions.push({ id: t, x: out.slice(i * cfg.d_in, (i + 1) * cfg.d_in) }));
  }
  await session.release();

  const n = positions.length, d = cfg.d_in;
  const X = new Float32Array(n * d);
  positions.forEach((p, i) => X.set(p.x, i * d));
  const z = encode(weights, cfg, X, n);
  const chosen = positions.map((_, t) => {
    const row: [number, number][] = [];
    for (let l = 0; l < cfg.d_sae; l++) if (z[t * cfg.d_sae + l] > 0) row.push([l, z[t * cfg.d_sae + l]]);
    return row.sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, top);
  });
  const latents = [...new Set(chosen.flat().map(([l]) => l))].sort((a, b) => a - b);
  const info = dirs.evaluate ? await latentLabels(dirs.evaluate, latents) : new Map();
  if (!dirs.evaluate) notes.push("no evaluate output: frequencies and labels are not shown");

  const logitsOf = new Map<number, Pick<LatentInfo, "boosted" | "suppressed">>();
  if ((opts.topLogits ?? 0) > 0) {
    const u = findUnembedding(modelBytes);
    if (typeof u === "string") notes.push(`--top-logits skipped: ${u}`);
    else if (u.d !== d) notes.push(`--top-logits skipped: the unembedding reads width ${u.d}, the hook is ${d} wide`);
    else {
      const piece = (t: number) => tok.vocab[t] ?? `<${t}>`;
      const lens = logitLens(weights.W_dec, u, opts.topLogits!, latents);
      latents.forEach((l, i) => {
        const e = lensEntries(lens, i);
        logitsOf.set(l, {
          boosted: e.boosted.map(([t, v]) => ({ token: piece(t), logit: v })),
          suppressed: e.suppressed.map(([t, v]) => ({ token: piece(t), logit: v })),
        });
      });
    }
  }
  return {
    model: tok.modelName,
    hook: hook.name,
    architecture: cfg.architecture,
    d_sae: cfg.d_sae,
    tokens: positions.map((p, t) => ({
      position: t,
      token_id: p.id,
      piece: tok.vocab[p.id] ?? `<${p.id}>`,
      latents: chosen[t].map(([l, v]) => ({
        latent: l,
        activation: v,
        frequency: null,
        top_tag: null,
        top_tag_f1: null,
        top_genre: null,
        top_tokens: [],
        ...info.get(l),
        ...logitsOf.get(l),
      })),
    })),
    notes,
  };
}

type Labels = Pick<LatentInfo, "frequency" | "top_tag" | "top_tag_f1" | "top_genre" | "top_tokens">;

/** Frequency and labels of `latents` from latents.parquet, top tokens from examples.parquet. */
async function latentLabels(evalDir: string, latents: number[]): Promise<Map<number, Labels>> {
  const out = new Map<number, Labels>();
  if (!latents.length) return out;
  const q = (p: string) => `'${join(evalDir, p).replaceAll("'", "''")}'`;
  const list = latents.join(", ");
  await withDuckDB(async (con) => {
    const rows = (await con.runAndReadAll(
      `SELECT latent, frequency, top_tag, top_tag_f1, top_genre FROM read_parquet(${q("latents.parquet")}) ` +
        `WHERE latent IN (${list})`,
    )).getRowObjectsJS();
    for (const r of rows) {
      out.set(Number(r.latent), {
        frequency: r.frequency as number,
        top_tag: (r.top_tag as string | null) ?? null,
        top_tag_f1: (r.top_tag_f1 as number | null) ?? null,
        top_genre: (r.top_genre as string | null) ?? null,
        top_tokens: [],
      });
    }
    const toks = (await con.runAndReadAll(
      `SELECT latent, token, count(*)::INTEGER AS c FROM read_parquet(${q("examples.parquet")}) ` +
        `WHERE kind = 'top' AND latent IN (${list}) GROUP BY latent, token ORDER BY latent, c DESC, token`,
    )).getRowObjectsJS();
    for (const r of toks) {
      const e = out.get(Number(r.latent));
      if (e && e.top_tokens.length < 3) e.top_tokens.push(String(r.token));
    }
  });
  return out;
}
