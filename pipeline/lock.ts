/**
 * OS file locks (flock). The kernel drops a lock when its owner exits in any way (kill -9 included), so there
 * is no stale-lock guessing. Runs hold `<store>/run.lock` *shared* (any number at once; each stage's key is
 * claimed separately, see claims.ts); `gc` holds it *exclusive*, so it never deletes what a run is using.
 */
import { join } from "node:path";
import { ignoreBadJson, isMissing } from "./missing.ts";

export class LockBusyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LockBusyError";
  }
}

export interface StoreLock {
  release(): void;
}

export interface LockWaitOptions {
  /** Wait for the holder instead of failing at once. */
  wait?: boolean;
  timeoutMs?: number;
  /** Told once, when the lock is busy and we wait. */
  onWait?: (msg: string) => void;
}

export interface FileLockOptions extends LockWaitOptions {
  exclusive: boolean;
  /** The one-line "who holds it" message, from the holder's owner record (null: unreadable). */
  busy(owner: Record<string, unknown> | null): string;
  /** Written into the file once held (exclusive locks only): read by waiters for their message. */
  owner?: Record<string, unknown>;
}

/** Take an flock on `path` (created if missing), waiting or failing with a one-line LockBusyError. */
export async function lockFile(path: string, opts: FileLockOptions): Promise<StoreLock> {
  const file = await Deno.open(path, { read: true, write: true, create: true });
  const start = Date.now();
  let told = false;
  while (!(await file.tryLock(opts.exclusive))) {
    let owner: Record<string, unknown> | null = null;
    try {
      owner = JSON.parse(await Deno.readTextFile(path));
    } catch (e) {
      if (!isMissing(e)) ignoreBadJson(e); // being written, or a shared lock (no owner record)
    }
    const msg = opts.busy(owner);
    if (!opts.wait) {
      file.close();
      throw new LockBusyError(`${msg}; wait for it, or rerun with --wait`);
    }
    if (opts.timeoutMs !== undefined && Date.now() - start > opts.timeoutMs) {
      file.close();
      throw new LockBusyError(`${msg}; gave up after ${Math.round(opts.timeoutMs / 1000)} s`);
    }
    if (!told) {
      opts.onWait?.(`${msg}; waiting for it to finish...`);
      told = true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  if (opts.exclusive && opts.owner) {
    await file.truncate(0);
    await file.write(new TextEncoder().encode(JSON.stringify(opts.owner)));
  }
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      try {
        file.unlockSync();
        file.close();
      } catch (e) {
        if (!(e instanceof Deno.errors.BadResource)) throw e; // already closed
      }
    },
  };
}

/** Who we are, for owner records: pid, host and start time. */
export function ownerRecord(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { pid: Deno.pid, host: Deno.hostname(), started: new Date().toISOString(), ...extra };
}

/**
 * The store-wide lock: shared for runs, exclusive for gc. A run waits for a gc (or fails with --no-wait),
 * and a gc waits for every run.
 */
export async function acquireLock(
  storeDir: string,
  opts: LockWaitOptions & { exclusive?: boolean } = {},
): Promise<StoreLock> {
  await Deno.mkdir(storeDir, { recursive: true });
  const exclusive = opts.exclusive ?? false;
  return await lockFile(join(storeDir, "run.lock"), {
    ...opts,
    exclusive,
    owner: ownerRecord({ what: "gc" }),
    busy: (o) =>
      exclusive
        ? `pipeline runs are using the store ${storeDir}`
        : `a gc (${
          o ? `pid ${o.pid} on ${o.host}, since ${o.started}` : "another process"
        }) holds the store ${storeDir}`,
  });
}
