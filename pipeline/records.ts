/**
 * Run lineage: `runs.ndjson` gets one JSON line per stage per run (DuckDB reads it with read_json), and
 * `pipeline.lock.json` holds the latest resolved graph (like dvc.lock). Both are rewritten atomically.
 */
import { join } from "node:path";
import type { CodeFingerprint } from "./fingerprint.ts";
import { ignoreBadJson, ignoreMissing, isMissing } from "./missing.ts";

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
}

export const RUNS_FILE = "runs.ndjson";
export const LOCK_FILE = "pipeline.lock.json";

export async function appendRunRecords(storeDir: string, records: RunRecord[]): Promise<void> {
  const lines = records.map((r) => JSON.stringify(r)).join("\n") + "\n";
  await Deno.writeTextFile(join(storeDir, RUNS_FILE), lines, { append: true });
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

export async function writeLockFile(storeDir: string, lock: LockFile): Promise<void> {
  const tmp = join(storeDir, `${LOCK_FILE}.${Deno.pid}.tmp`);
  await Deno.writeTextFile(tmp, JSON.stringify(lock, null, 2) + "\n");
  await Deno.rename(tmp, join(storeDir, LOCK_FILE));
}
