/**
 * The binary probing tasks built from the sample (probe_sample.ts), balanced as SAEBench's are:
 *   POS class T (token level): positives = sampled tokens tagged T; negatives = as many tokens of the
 *     uniform pool with another tag, in seeded hash order.
 *   genre G (sequence level): positives = pooled sequences whose majority genre is G (at least
 *     `minSequences` of them); negatives = as many other pooled sequences, in seeded hash order.
 * Each example lands in the test split when its hash < TEST_FRACTION (the same for every task).
 */
import { hash01, type PooledSequences, type ProbePlan, SALT, type TokenExamples } from "./probe_sample.ts";
import type { ProbeTask } from "./probing.ts";
import { NO_TAG, type TokenCorpus } from "./token_corpus.ts";

export const TEST_FRACTION = 0.2;

function balanced(
  task: ProbeTask["task"],
  label: string,
  pos: number[],
  neg: number[],
  key: (i: number) => number,
  seed: number,
): ProbeTask | null {
  const order = (i: number) => hash01(key(i), seed, SALT.order);
  const negs = neg.sort((a, b) => order(a) - order(b) || a - b).slice(0, pos.length);
  const members = Uint32Array.from([...pos, ...negs]);
  const y = Uint8Array.from(members, (_, m) => (m < pos.length ? 1 : 0));
  const test = Uint8Array.from(members, (i) => (hash01(key(i), seed, SALT.split) < TEST_FRACTION ? 1 : 0));
  let trainPos = 0, testPos = 0;
  members.forEach((_, m) => (y[m] ? (test[m] ? testPos++ : trainPos++) : 0));
  return trainPos > 0 && testPos > 0 && negs.length > 0 ? { task, label, members, y, test } : null;
}

/** One task per planned POS class (classes whose sample lacks a train or test positive are skipped). */
export function posTasks(ex: TokenExamples, plan: ProbePlan, corpus: TokenCorpus): ProbeTask[] {
  const tasks: ProbeTask[] = [];
  const h = Float64Array.from(ex.rows, (r) => hash01(r, plan.seed, SALT.keep));
  for (const T of plan.classes) {
    const pos: number[] = [], neg: number[] = [];
    for (let i = 0; i < ex.n; i++) {
      const t = corpus.tag[ex.rows[i]];
      if (t === T && h[i] < plan.classRate[T]) pos.push(i);
      else if (t !== T && t !== NO_TAG && h[i] < plan.poolRate) neg.push(i);
    }
    const task = balanced("pos", corpus.meta.tags[T] ?? String(T), pos, neg, (i) => ex.rows[i], plan.seed);
    if (task) tasks.push(task);
  }
  return tasks;
}

/** One task per genre with at least `minSequences` pooled sequences. */
export function genreTasks(
  pooled: PooledSequences,
  corpus: TokenCorpus,
  minSequences: number,
  seed: number,
): ProbeTask[] {
  const tasks: ProbeTask[] = [];
  for (let g = 0; g < corpus.meta.genres.length; g++) {
    const pos: number[] = [], neg: number[] = [];
    for (let i = 0; i < pooled.n; i++) (pooled.genre[i] === g ? pos : neg).push(i);
    if (pos.length < minSequences) continue;
    const task = balanced("genre", corpus.meta.genres[g], pos, neg, (i) => pooled.seqs[i], seed);
    if (task) tasks.push(task);
  }
  return tasks;
}
