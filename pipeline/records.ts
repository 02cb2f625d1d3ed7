/**
 * Run lineage: `runs.ndjson` gets one JSON line per stage per run (DuckDB reads it with read_json), and
 * `pipeline.lock.json` holds the latest resolved graph (like dvc.lock). Both are rewritten atomically.
 */
import { join } from "node:path";
import type { CodeFingerprint } from "./fingerprint.ts";
import { ignoreBadJson, ignoreMissing, isMissing } from "./missing.ts";
import { lockFile } from "./lock.ts";

export interface RunRecord {
  run_id: string;
  stage: string;
  key: string;
  status: "fresh" | "ran" | "failed";
  /** Why it ran ("" when fresh). */
  reason: string;
  params: Record<string, unknown>;
  /** upstream stage -> its output content hash */
  inputs: Record<string, string>;
  output_hash: string | null;
  started: string;
  duration_s: number;
  error: string | null;
  /** The sweep point this stage ran for (null: not part of a sweep). */
  branch?: string | null;
}

export interface LockStage {
  key: string;
  output_hash: string;
  path: string;
  params: Record<string, unknown>;
  upstream: Record<string, string>;
  code: CodeFingerprint;
  runtime: string;
}

export interface LockFile {
  run_id: string;
  created: string;
  stages: Record<string, LockStage>;
  /** Per sweep point of this run: its resolved stages. */
  branches?: Record<string, Record<string, LockStage>>;
}

export const RUNS_FILE = "runs.ndjson";
export const LOCK_FILE = "pipeline.lock.json";

/** Writers of runs.ndjson and pipeline.lock.json take this short flock (O_APPEND alone is not atomic on NFS). */
async function withRecordsLock<T>(storeDir: string, fn: () => Promise<T>): Promise<T> {
  const held = await lockFile(join(storeDir, `${LOCK_FILE}.lock`), {
    exclusive: true,
    wait: true,
    busy: () => "another run is writing the store's records",
  });
  try {
    return await fn();
  } finally {
    held.release();
  }
}

export async function appendRunRecords(storeDir: string, records: RunRecord[]): Promise<void> {
  const lines = records.map((r) => JSON.stringify(r)).join("\n") + "\n";
  await withRecordsLock(storeDir, () => Deno.writeTextFile(join(storeDir, RUNS_FILE), lines, { append: true }));
}

export async function readRunRecords(storeDir: string): Promise<RunRecord[]> {
  let text = "";
  try {
    text = await Deno.readTextFile(join(storeDir, RUNS_FILE));
  } catch (e) {
    ignoreMissing(e);
    return [];
  }
  // A torn last line (killed mid-append) is skipped, never fatal.
  return text.split("\n").filter((l) => l.trim()).flatMap((l) => {
    try {
      return [JSON.parse(l) as RunRecord];
    } catch (e) {
      ignoreBadJson(e);
      return [];
    }
  });
}

export async function readLockFile(storeDir: string): Promise<LockFile | null> {
  try {
    return JSON.parse(await Deno.readTextFile(join(storeDir, LOCK_FILE)));
  } catch (e) {
    if (!isMissing(e)) ignoreBadJson(e);
    return null;
  }
}

/**
 * Merge a run's resolved stages into `pipeline.lock.json` under a short flock (concurrent runs and a sweep's
 * jobs all update it). A new run id starts a new resolved graph: its stages replace the old ones as they
 * resolve, and the old run's branches are dropped.
 */
export async function updateLockFile(
  storeDir: string,
  runId: string,
  stages: Record<string, LockStage>,
  branch: string | null,
): Promise<void> {
  await withRecordsLock(storeDir, async () => {
    const prev = await readLockFile(storeDir);
    const same = prev?.run_id === runId;
    const next: LockFile = {
      run_id: runId,
      created: same ? prev!.created : new Date().toISOString(),
      stages: { ...(prev?.stages ?? {}), ...stages },
      branches: same ? { ...(prev!.branches ?? {}) } : {},
    };
    if (branch) next.branches![branch] = { ...(next.branches![branch] ?? {}), ...stages };
    await writeLockFile(storeDir, next);
  });
}

export async function writeLockFile(storeDir: string, lock: LockFile): Promise<void> {
  const tmp = join(storeDir, `${LOCK_FILE}.${Deno.pid}.tmp`);
  await Deno.writeTextFile(tmp, JSON.stringify(lock, null, 2) + "\n");
  await Deno.rename(tmp, join(storeDir, LOCK_FILE));
}
