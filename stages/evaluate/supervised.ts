/**
 * Supervised latent metrics for evaluate: k-sparse probing on POS tags and genres (probing.ts) and
 * first-letter feature absorption (absorption.ts), from a bounded seeded sample of the held-out tokens
 * (probe_sample.ts) taken during the main pass. Writes `probes.parquet` and `absorption.parquet` (always,
 * possibly empty) and returns the summaries for eval.json.
 */
import { join } from "node:path";
import type { ParamSchema, ParamsOf } from "../../pipeline/params.ts";
import type { ShardInfo } from "../io/activations.ts";
import { writeParquet } from "../io/parquet.ts";
import { absorption, type LetterExamples } from "./absorption.ts";
import type { AbsorptionJson, SparseProbingJson } from "./eval_json.ts";
import {
  hash01,
  planProbeSample,
  type ProbePlan,
  SALT,
  type SampleOptions,
  SequencePool,
  type TokenExamples,
  TokenSample,
} from "./probe_sample.ts";
import { genreTasks, posTasks, TEST_FRACTION } from "./probe_tasks.ts";
import { type ProbeRow, sparseProbe, summariseProbes } from "./probing.ts";
import type { SparseCodes } from "./sparse_codes.ts";
import type { TokenCorpus } from "./token_corpus.ts";

export const PROBES_SCHEMA = {
  task: "VARCHAR",
  label: "VARCHAR",
  method: "VARCHAR",
  k: "INTEGER",
  n_train: "INTEGER",
  n_test: "INTEGER",
  accuracy: "DOUBLE",
  f1: "DOUBLE",
  latents: "INTEGER[]",
  mean_diff: "DOUBLE[]",
} as const;

export const ABSORPTION_SCHEMA = {
  letter: "VARCHAR",
  n_train: "INTEGER",
  n_test: "INTEGER",
  probe_f1: "DOUBLE",
  true_positives: "INTEGER",
  main_latents: "INTEGER[]",
  main_f1: "DOUBLE[]",
  mean_absorption_fraction: "DOUBLE",
  full_absorption_rate: "DOUBLE",
  full_absorptions: "INTEGER",
  absorbers: "INTEGER[]",
  absorber_counts: "INTEGER[]",
} as const;

export interface SupervisedOptions extends SampleOptions {
  minSequences: number;
}

/** The evaluate-stage keys of these metrics (sizes of the sample; each bounds memory and time). */
export const SUPERVISED_PARAMS = {
  probe_examples: {
    type: "int",
    default: 500,
    min: 0,
    max: 100000,
    doc: "probing: tokens per POS class, and as many negatives (0 = no POS probes)",
  },
  probe_min_support: {
    type: "int",
    default: 200,
    min: 2,
    doc: "probing: held-out tokens a POS tag needs to be probed",
  },
  probe_max_classes: {
    type: "int",
    default: 20,
    min: 0,
    max: 1000,
    doc: "probing: probe at most this many POS tags (the most frequent)",
  },
  probe_max_sequences: {
    type: "int",
    default: 2048,
    min: 0,
    doc: "probing: sequences mean-pooled for genre probes (0 = no genre probes)",
  },
  probe_min_sequences: {
    type: "int",
    default: 16,
    min: 2,
    doc: "probing: pooled sequences a genre needs to be probed",
  },
  absorption_examples: {
    type: "int",
    default: 8000,
    min: 0,
    max: 1000000,
    doc: "absorption: sampled word-initial tokens for the letter probes (0 = skip)",
  },
  probe_seed: { type: "int", default: 0, min: 0, doc: "seed of the probing and absorption samples" },
} as const satisfies ParamSchema;

export type SupervisedParams = ParamsOf<typeof SUPERVISED_PARAMS>;

/** The metrics' state for one evaluate run, from its params and the held-out rows it will see. */
export function supervisedEvals(
  corpus: TokenCorpus,
  rows: Uint32Array,
  p: SupervisedParams,
  dIn: number,
  dSae: number,
): SupervisedEvals {
  return SupervisedEvals.create(
    corpus,
    rows,
    {
      examples: p.probe_examples,
      minSupport: p.probe_min_support,
      maxClasses: p.probe_max_classes,
      absorption: p.absorption_examples,
      maxSequences: p.probe_max_sequences,
      minSequences: p.probe_min_sequences,
      seed: p.probe_seed,
    },
    dIn,
    dSae,
  );
}

export interface SupervisedResult {
  sparse_probing: SparseProbingJson;
  absorption: AbsorptionJson | null;
}

/** The held-out rows (flat token indices) of the first `total` rows of a split: 4 bytes per token. */
export async function heldoutRows(extractDir: string, shards: ShardInfo[], total: number): Promise<Uint32Array> {
  const out = new Uint32Array(total);
  let done = 0;
  for (const s of shards) {
    if (done >= total) break;
    const rows = new Uint32Array((await Deno.readFile(join(extractDir, s.rows))).buffer);
    const n = Math.min(rows.length, total - done);
    out.set(rows.subarray(0, n), done);
    done += n;
  }
  return out.subarray(0, done);
}

export class SupervisedEvals {
  readonly tokens: TokenSample;
  readonly sequences: SequencePool;

  constructor(
    readonly plan: ProbePlan,
    readonly corpus: TokenCorpus,
    readonly opts: SupervisedOptions,
    readonly dIn: number,
    readonly dSae: number,
  ) {
    this.tokens = new TokenSample(plan, corpus, dIn);
    this.sequences = new SequencePool(plan, corpus, dIn, dSae);
  }

  static create(corpus: TokenCorpus, rows: Uint32Array, opts: SupervisedOptions, dIn: number, dSae: number) {
    return new SupervisedEvals(planProbeSample(corpus, rows, opts), corpus, opts, dIn, dSae);
  }

  /** One batch of the main pass: raw activations `x` [codes.n, dIn], codes, flat row indices. */
  add(x: Float32Array, codes: SparseCodes, rows: Uint32Array): void {
    this.tokens.add(x, codes, rows);
    this.sequences.add(x, codes, rows);
  }

  async finish(outDir: string, wDec: ArrayLike<number>, log: (m: string) => void): Promise<SupervisedResult> {
    const t0 = performance.now();
    const ex = this.tokens.result(), pooled = this.sequences.result();
    const seed = this.plan.seed;
    const tasks = [...posTasks(ex, this.plan, this.corpus)];
    const seqTasks = genreTasks(pooled, this.corpus, this.opts.minSequences, seed);
    const rows: ProbeRow[] = [];
    for (const t of tasks) rows.push(...sparseProbe(ex, t, this.dSae, seed));
    for (const t of seqTasks) rows.push(...sparseProbe(pooled, t, this.dSae, seed));
    await writeParquet(join(outDir, "probes.parquet"), PROBES_SCHEMA, rows);
    const probeSeconds = (performance.now() - t0) / 1000;
    log(
      `evaluate: sparse probing on ${tasks.length} POS classes and ${seqTasks.length} genres ` +
        `(${ex.n} sampled tokens, ${pooled.n} sequences) in ${probeSeconds.toFixed(1)} s`,
    );
    const t1 = performance.now();
    const letters = letterExamples(ex, this.plan, this.corpus);
    const found = letters.n > 0 ? absorption(letters, wDec, this.dSae) : null;
    const ab = found && found.rows.length > 0 ? found : null; // null: no letter had enough sampled tokens
    await writeParquet(join(outDir, "absorption.parquet"), ABSORPTION_SCHEMA, ab?.rows ?? []);
    const abSeconds = (performance.now() - t1) / 1000;
    if (ab) {
      log(
        `evaluate: absorption on ${letters.n} word-initial tokens, ${ab.summary.letters} letters in ${
          abSeconds.toFixed(1)
        } s`,
      );
    }
    return {
      sparse_probing: {
        pos: summariseProbes(rows.filter((r) => r.task === "pos")),
        genre: summariseProbes(rows.filter((r) => r.task === "genre")),
        pos_tasks: tasks.length,
        genre_tasks: seqTasks.length,
        sample_tokens: ex.n,
        sample_sequences: pooled.n,
      },
      // No timings here: eval.json must be a pure function of the inputs (the engine's early cutoff).
      absorption: ab ? { ...ab.summary, sample_tokens: letters.n } : null,
    };
  }
}

/** The sampled word-initial letter tokens, with their letter and split. */
function letterExamples(ex: TokenExamples, plan: ProbePlan, corpus: TokenCorpus): LetterExamples {
  const pick: number[] = [];
  for (let i = 0; i < ex.n; i++) {
    const r = ex.rows[i];
    if ((plan.letterOfToken[corpus.tokens[r]] ?? -1) >= 0 && hash01(r, plan.seed, SALT.letter) < plan.letterRate) {
      pick.push(i);
    }
  }
  const d = ex.dIn, x = new Float32Array(pick.length * d), offsets = new Uint32Array(pick.length + 1);
  const idx: number[] = [], val: number[] = [];
  pick.forEach((i, q) => {
    x.set(ex.x.subarray(i * d, (i + 1) * d), q * d);
    for (let e = ex.offsets[i]; e < ex.offsets[i + 1]; e++) {
      idx.push(ex.idx[e]);
      val.push(ex.val[e]);
    }
    offsets[q + 1] = idx.length;
  });
  return {
    n: pick.length,
    dIn: d,
    x,
    offsets,
    idx: Uint32Array.from(idx),
    val: Float32Array.from(val),
    letter: Uint8Array.from(pick, (i) => plan.letterOfToken[corpus.tokens[ex.rows[i]]]),
    test: Uint8Array.from(pick, (i) => (hash01(ex.rows[i], plan.seed, SALT.split) < TEST_FRACTION ? 1 : 0)),
  };
}
