/**
 * Which object directory holds each stage's outputs for a run: the latest run from
 * `pipeline.lock.json`, or any run id from `runs.ndjson` (each stage's record of that run names the
 * cache key; its object is `objects/<key>/`).
 */
import { isAbsolute, join } from "node:path";
import { ignoreBadJson } from "../../pipeline/missing.ts";

export interface ResolvedRun {
  run_id: string;
  /** stage name -> its output directory. */
  stages: Record<string, string>;
}

async function readJson(path: string): Promise<unknown> {
  try {
    return JSON.parse(await Deno.readTextFile(path));
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw new Error(`cannot read ${path}: ${(e as Error).message}`);
  }
}

async function readNdjson(path: string): Promise<Record<string, unknown>[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return text.split("\n").filter((l) => l.trim()).flatMap((l) => {
    try {
      return [JSON.parse(l)];
    } catch (e) {
      ignoreBadJson(e);
      return []; // a torn last line
    }
  });
}

export async function resolveRun(store: string, run?: string | null): Promise<ResolvedRun> {
  if (run) {
    const records = (await readNdjson(join(store, "runs.ndjson"))).filter((r) => r.run_id === run);
    if (records.length === 0) {
      const ids = [...new Set((await readNdjson(join(store, "runs.ndjson"))).map((r) => String(r.run_id)))];
      throw new Error(
        `run "${run}" is not in ${join(store, "runs.ndjson")} (latest runs: ${ids.slice(-5).join(", ") || "none"})`,
      );
    }
    const stages: Record<string, string> = {};
    for (const r of records) {
      if (r.status !== "failed" && typeof r.key === "string") stages[String(r.stage)] = join(store, "objects", r.key);
    }
    return { run_id: run, stages };
  }
  const lock = await readJson(join(store, "pipeline.lock.json")) as {
    run_id: string;
    stages: Record<string, { key: string; path?: string }>;
  } | null;
  if (!lock) {
    throw new Error(
      `no pipeline run found in ${store} (no pipeline.lock.json): run \`deno task pipeline\` first, or pass --store`,
    );
  }
  const stages: Record<string, string> = {};
  for (const [name, s] of Object.entries(lock.stages)) {
    stages[name] = s.path ? (isAbsolute(s.path) ? s.path : join(store, s.path)) : join(store, "objects", s.key);
  }
  return { run_id: lock.run_id, stages };
}
