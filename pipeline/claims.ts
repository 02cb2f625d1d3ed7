/**
 * Per-key claims: before computing a stage's output, a worker takes an exclusive flock on
 * `<store>/claims/<key>.lock`. Workers on other keys run at the same time; a second worker on the same key
 * waits (saying who holds it) and then finds the object committed. The kernel releases a dead worker's
 * claim, so the next claimant sweeps the dead attempt's temporary directories and starts over (its
 * scratch dir, e.g. checkpoints, is kept). On a shared filesystem this needs flock to reach the server
 * (NFSv4, Lustre with `flock` mounted, BeeGFS, GPFS do).
 * Claim files are never deleted while runs may hold them (that would let two workers lock different
 * inodes); `gc` removes them under the exclusive store lock.
 */
import { join } from "node:path";
import { LockBusyError, lockFile, type LockWaitOptions, ownerRecord, type StoreLock } from "./lock.ts";
import type { Store } from "./store.ts";

export function claimsDir(storeDir: string): string {
  return join(storeDir, "claims");
}

/** Claim `key` (computing `stage`) in the store, waiting for another holder or failing per `opts`. */
export async function claimKey(
  storeDir: string,
  key: string,
  stage: string,
  opts: LockWaitOptions = {},
): Promise<StoreLock> {
  const dir = claimsDir(storeDir);
  await Deno.mkdir(dir, { recursive: true });
  return await lockFile(join(dir, `${key}.lock`), {
    ...opts,
    exclusive: true,
    owner: ownerRecord({ stage, key }),
    busy: (o) =>
      `another pipeline run (${
        o ? `pid ${o.pid} on ${o.host}, since ${o.started}` : "another process"
      }) is computing ${stage} (key ${key.slice(0, 12)}) in the store ${storeDir}`,
  });
}

/**
 * Remove temporary directories of dead attempts, whatever their key: an entry of `tmp/` is named by its key,
 * and it is dead exactly when that key's claim can be taken at once (a live attempt holds it).
 */
export async function sweepDeadAttempts(store: Store): Promise<number> {
  const keys = new Set<string>();
  try {
    for await (const e of Deno.readDir(store.tmp)) keys.add(e.name.split(".")[0]);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  let n = 0;
  for (const key of keys) {
    let claim: StoreLock;
    try {
      claim = await claimKey(store.root, key, "(sweeping dead attempts)", { wait: false });
    } catch (e) {
      if (e instanceof LockBusyError) continue; // a live attempt
      throw e;
    }
    try {
      n += await store.cleanTmp(key);
    } finally {
      claim.release();
    }
  }
  return n;
}
