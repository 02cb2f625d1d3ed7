/**
 * Sibling outputs: a stage may write, in one run, the outputs of other param sets too (`Stage.siblings`; e.g.
 * extract writes every hook of `extract.hooks` from one forward pass). Each sibling is its own object under
 * the key those params would have (same code, same upstreams), committed with the run's own output, so a
 * later run with those params is a cache hit. Siblings already in the store, or being computed by another
 * run (their claim is busy), are left out: the stage writes only what `ctx.siblings` lists.
 */
import { claimKey } from "./claims.ts";
import { LockBusyError, type StoreLock } from "./lock.ts";
import type { Store } from "./store.ts";
import { ignoreMissing } from "./missing.ts";

export interface SiblingAttempt {
  key: string;
  params: Record<string, unknown>;
  outDir: string;
  claim: StoreLock;
}

/** Claim and prepare a temp dir for every sibling not yet in the store (keys from `keyOf`). */
export async function prepareSiblings(
  store: Store,
  stage: string,
  own: string,
  params: Record<string, unknown>[],
  keyOf: (p: Record<string, unknown>) => string,
): Promise<SiblingAttempt[]> {
  const out: SiblingAttempt[] = [];
  for (const p of params) {
    const key = keyOf(p);
    if (key === own || out.some((s) => s.key === key) || (await store.verify(key)) !== null) continue;
    let claim: StoreLock;
    try {
      claim = await claimKey(store.root, key, stage, { wait: false });
    } catch (e) {
      if (e instanceof LockBusyError) continue; // another run computes it
      throw e;
    }
    if ((await store.verify(key)) !== null) {
      claim.release();
      continue;
    }
    await store.cleanTmp(key);
    out.push({ key, params: p, outDir: await store.makeTmp(key), claim });
  }
  return out;
}

/** Commit (after a successful run) or discard the siblings, releasing their claims. */
export async function finishSiblings(store: Store, sibs: SiblingAttempt[], commit: boolean): Promise<void> {
  for (const s of sibs) {
    try {
      if (commit) await store.commit(s.outDir, s.key);
      else await Deno.remove(s.outDir, { recursive: true }).catch(ignoreMissing);
    } finally {
      s.claim.release();
    }
  }
}
