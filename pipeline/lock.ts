/**
 * One writer per store: an exclusive OS file lock (flock) on `<store>/run.lock`. The kernel drops it when
 * the owner exits in any way (kill -9 included), so there is no stale-lock guessing. A second run waits
 * (saying who holds it) or exits with a clear error.
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

export async function acquireLock(
  storeDir: string,
  opts: { wait?: boolean; timeoutMs?: number; onWait?: (msg: string) => void } = {},
): Promise<StoreLock> {
  const path = join(storeDir, "run.lock");
  await Deno.mkdir(storeDir, { recursive: true });
  const file = await Deno.open(path, { read: true, write: true, create: true });
  const start = Date.now();
  let told = false;
  while (!(await file.tryLock(true))) {
    let owner = "another process";
    try {
      const o = JSON.parse(await Deno.readTextFile(path));
      owner = `pid ${o.pid}, since ${o.started}`;
    } catch (e) {
      if (!isMissing(e)) ignoreBadJson(e); // being written
    }
    const msg = `another pipeline run (${owner}) is using the store ${storeDir}`;
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
  await file.truncate(0);
  await file.write(new TextEncoder().encode(JSON.stringify({ pid: Deno.pid, started: new Date().toISOString() })));
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
