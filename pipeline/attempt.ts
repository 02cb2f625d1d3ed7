/**
 * One attempt at a stale stage: its context, its siblings and parts, the run into a temp dir and the commit.
 * The caller (run.ts) holds the key's claim.
 */
import type { AnyStage, Reporter } from "./run.ts";
import type { StageContext } from "./stage.ts";
import type { Store } from "./store.ts";
import { finishSiblings, prepareSiblings } from "./siblings.ts";
import { partCount, runParts } from "./parts.ts";
import { ignoreMissing } from "./missing.ts";

/** A stage's run() threw; the reporter has already shown the message. */
export class StageFailedError extends Error {
  constructor(readonly stage: string, message: string, override readonly cause: unknown) {
    super(`stage ${stage} failed: ${message}`);
    this.name = "StageFailedError";
  }
}

/** Everything one stage attempt needs besides the stage. */
export interface Attempt {
  store: Store;
  key: string;
  params: Record<string, unknown>;
  upstream: Record<string, string>;
  inputs: Record<string, string>;
  config: Record<string, Record<string, unknown>>;
  reporter: Reporter;
  signal: AbortSignal;
  /** Called with the error message when run() fails, before StageFailedError is thrown. */
  onFail(message: string, seconds: number): void;
  /** The key of this stage for other params (siblings). */
  keyOf(params: Record<string, unknown>): string;
}

/** Run a stale stage into a temp dir and commit it (and its siblings); the caller holds the key's claim. */
export async function attempt(s: AnyStage, a: Attempt, started: Date): Promise<string> {
  await a.store.cleanTmp(a.key); // dead attempts of this key (their claim is gone, ours is held)
  const sibParams = (s.siblings?.(a.params) ?? []) as Record<string, unknown>[];
  for (const p of sibParams) s.validate?.(p);
  const sibs = await prepareSiblings(a.store, s.name, a.key, sibParams, a.keyOf);
  const tmp = await a.store.makeTmp(a.key);
  const ctx = await stageContext(s, a, tmp);
  ctx.siblings = sibs.map((x) => ({ params: x.params, outDir: x.outDir }));
  let out: string;
  try {
    if (partCount(s, a.params) > 1) ctx.parts = await runParts(s, ctx, a.store.root, a.key);
    await s.run(ctx);
    a.signal.throwIfAborted();
    out = await a.store.commit(tmp, a.key);
    await finishSiblings(a.store, sibs, true);
    if (sibs.length) a.reporter.log(s.name, `also stored ${sibs.length} sibling output(s) of the same run`);
  } catch (e) {
    await finishSiblings(a.store, sibs, false);
    await Deno.remove(tmp, { recursive: true }).catch(ignoreMissing);
    const seconds = (Date.now() - started.getTime()) / 1000;
    const msg = a.signal.aborted ? "interrupted" : (e instanceof Error ? e.message : String(e));
    a.onFail(msg, seconds);
    a.reporter.stageEnd(s.name, "failed", seconds, msg);
    throw new StageFailedError(s.name, msg, e);
  }
  await Deno.remove(ctx.scratchDir, { recursive: true }).catch(ignoreMissing);
  return out;
}

/** Compute one part of a partitioned stage (nothing committed: the stage's own run merges the parts). */
export async function partOnly(s: AnyStage, a: Attempt, part: number, started: Date): Promise<void> {
  a.reporter.stageStart(s.name, `part ${part + 1}/${partCount(s, a.params)}`, s.unit);
  try {
    await runParts(s, await stageContext(s, a, a.store.scratchDir(a.key)), a.store.root, a.key, part);
  } catch (e) {
    const msg = a.signal.aborted ? "interrupted" : (e instanceof Error ? e.message : String(e));
    a.reporter.stageEnd(s.name, "failed", (Date.now() - started.getTime()) / 1000, msg);
    throw new StageFailedError(s.name, msg, e);
  }
  a.reporter.stageEnd(s.name, "ran", (Date.now() - started.getTime()) / 1000);
}

/** The context of a stage attempt writing into `outDir` (its scratch dir created). */
async function stageContext(s: AnyStage, a: Attempt, outDir: string): Promise<StageContext> {
  const scratchDir = a.store.scratchDir(a.key);
  await Deno.mkdir(scratchDir, { recursive: true });
  return {
    params: a.params,
    outDir,
    inputs: a.inputs,
    scratchDir,
    config: a.config,
    progress: (done, total, info) => a.reporter.progress(s.name, done, total, info),
    log: (m) => a.reporter.log(s.name, m),
    signal: a.signal,
  };
}
