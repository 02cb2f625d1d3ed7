/**
 * Plan and run a DAG of stages over the content-addressed store.
 *
 * Key of a stage = sha256(canonical JSON of: stage name, code fingerprint (files + npm packages), params,
 * each upstream's *output content hash*, Deno version). Because downstream keys use upstream content, a
 * stage that reruns and reproduces identical bytes stops invalidation there (early cutoff).
 */
import { join } from "node:path";
import { hashDataFiles, hashJson } from "./hash.ts";
import { type CodeFingerprint, fingerprint } from "./fingerprint.ts";
import { ParamError, resolveParams } from "./params.ts";
import type { Stage } from "./stage.ts";
import { Store } from "./store.ts";
import { acquireLock } from "./lock.ts";
import { claimKey, sweepDeadAttempts } from "./claims.ts";
import { type Attempt, attempt, partOnly, StageFailedError } from "./attempt.ts";
import { explain } from "./explain.ts";
import { ENGINE_SECTIONS } from "./sweep.ts";
import {
  appendRunRecords,
  type LockFile,
  type LockStage,
  readLockFile,
  type RunRecord,
  updateLockFile,
} from "./records.ts";

// deno-lint-ignore no-explicit-any
export type AnyStage = Stage<any>;

export interface Reporter {
  stageStart(stage: string, reason: string, unit?: string): void;
  progress(stage: string, done: number, total: number, info?: string): void;
  log(stage: string, message: string): void;
  stageEnd(stage: string, status: "fresh" | "ran" | "failed", seconds: number, detail?: string): void;
  warn(message: string): void;
}

export const silentReporter: Reporter = {
  stageStart() {},
  progress() {},
  log() {},
  stageEnd() {},
  warn() {},
};

export { StageFailedError };

export interface PipelineOptions {
  stages: readonly AnyStage[];
  /** Raw config: one section per stage name. */
  config: Record<string, unknown>;
  storeDir: string;
  /** Repo root: code fingerprints are recorded relative to it. */
  root: string;
  force?: readonly string[];
  until?: string;
  reporter?: Reporter;
  /** Wait for another run holding the store instead of failing. */
  wait?: boolean;
  waitTimeoutMs?: number;
  signal?: AbortSignal;
  /** Run id to record under (a sweep's points share one); default: a new one. */
  runId?: string;
  /** The sweep point this run computes (recorded with each stage; "" or absent: no sweep). */
  branch?: string;
  /** Compute only this part of the `until` stage (a partitioned stage's part job); nothing is committed. */
  part?: number;
}

export interface StagePlan {
  name: string;
  params: Record<string, unknown>;
  code: CodeFingerprint;
  /** Known only when every upstream's output hash is known (fresh upstreams). */
  key: string | null;
  status: "fresh" | "stale";
  reasons: string[];
  outputHash: string | null;
  upstream: Record<string, string | null>;
}

export interface RunResult {
  runId: string;
  records: RunRecord[];
  outputs: Record<string, string>;
}

/** Order stages so each comes after its upstreams; a missing upstream or a cycle is an error. */
export function topoSort(stages: readonly AnyStage[]): AnyStage[] {
  const byName = new Map(stages.map((s) => [s.name, s]));
  const out: AnyStage[] = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (s: AnyStage, path: string[]) => {
    if (state.get(s.name) === "done") return;
    if (state.get(s.name) === "visiting") throw new Error(`stage graph has a cycle: ${[...path, s.name].join(" -> ")}`);
    state.set(s.name, "visiting");
    for (const u of s.upstream) {
      const us = byName.get(u);
      if (!us) throw new Error(`stage "${s.name}" needs upstream "${u}", which is not in the graph`);
      visit(us, [...path, s.name]);
    }
    state.set(s.name, "done");
    out.push(s);
  };
  for (const s of stages) visit(s, []);
  return out;
}

/** The stages to consider: all, or `until` and its ancestors. */
function selectStages(stages: readonly AnyStage[], until?: string): AnyStage[] {
  const sorted = topoSort(stages);
  if (!until) return sorted;
  const byName = new Map(sorted.map((s) => [s.name, s]));
  if (!byName.has(until)) {
    throw new ParamError(`--until ${until}: no such stage (stages: ${[...byName.keys()].join(", ")})`);
  }
  const need = new Set<string>();
  const add = (n: string) => {
    if (need.has(n)) return;
    need.add(n);
    byName.get(n)!.upstream.forEach(add);
  };
  add(until);
  return sorted.filter((s) => need.has(s.name));
}

/** Validate every section up front so a typo fails before any stage runs. */
export function resolveConfig(stages: readonly AnyStage[], config: Record<string, unknown>) {
  const names = new Set(stages.map((s) => s.name));
  for (const section of Object.keys(config)) {
    if (section.startsWith("$") || section === "description") continue; // "$schema", comments
    if ((ENGINE_SECTIONS as readonly string[]).includes(section)) continue; // read by the engine itself
    if (!names.has(section)) {
      throw new ParamError(`unknown config section "${section}" (stages: ${[...names].join(", ")})`);
    }
  }
  const resolved: Record<string, Record<string, unknown>> = {};
  for (const s of stages) {
    resolved[s.name] = resolveParams(s.name, s.params, config[s.name] as Record<string, unknown> | undefined);
  }
  for (const s of stages) {
    if (s.derive) resolved[s.name] = s.derive(resolved[s.name], resolved);
    s.validate?.(resolved[s.name]);
  }
  return resolved;
}

function keyOf(stage: AnyStage, params: unknown, code: CodeFingerprint, upstream: Record<string, string>) {
  return hashJson({ stage: stage.name, code, params, upstream, runtime: Deno.version.deno });
}

/** Fold the content of a stage's external data files into its fingerprint (as `data:<path>` entries). */
async function withData(stage: AnyStage, params: Record<string, unknown>, code: CodeFingerprint) {
  const paths = stage.dataFiles?.(params) ?? [];
  if (paths.length === 0) return code;
  const files = { ...code.files };
  for (const [path, hash] of Object.entries(await hashDataFiles(paths))) files[`data:${path}`] = hash;
  return { ...code, files };
}

/** What the last run recorded for a stage: on the same sweep point when there is one. */
function previousOf(lock: LockFile | null, stage: string, branch?: string): LockStage | undefined {
  return (branch ? lock?.branches?.[branch]?.[stage] : undefined) ?? lock?.stages[stage];
}

/** Read-only plan: each stage fresh or stale and why (for `status`/`explain`). Takes no lock. */
export async function planPipeline(opts: PipelineOptions): Promise<StagePlan[]> {
  const stages = selectStages(opts.stages, opts.until);
  // every section is validated, also those of stages --until leaves out: a typo fails now, not later
  const resolved = resolveConfig(opts.stages, opts.config);
  const store = new Store(opts.storeDir);
  const lock = await readLockFile(opts.storeDir);
  const plans: StagePlan[] = [];
  const hashes = new Map<string, string | null>();
  const force = new Set(opts.force ?? []);
  for (const s of stages) {
    const params = resolved[s.name];
    const code = await withData(s, params, fingerprint(s.module, opts.root, s.extraSources));
    const upstream: Record<string, string | null> = {};
    const pending: string[] = [];
    for (const u of s.upstream) {
      upstream[u] = hashes.get(u) ?? null;
      if (upstream[u] === null) pending.push(u);
    }
    let key: string | null = null;
    let out: string | null = null;
    if (pending.length === 0) {
      key = keyOf(s, params, code, upstream as Record<string, string>);
      out = force.has(s.name) ? null : await store.verify(key);
    }
    const fresh = out !== null;
    const reasons = fresh
      ? []
      : force.has(s.name)
      ? ["forced (--force)"]
      : explain(s, previousOf(lock, s.name, opts.branch), params, code, upstream, pending);
    hashes.set(s.name, out);
    plans.push({
      name: s.name,
      params,
      code,
      key,
      status: fresh ? "fresh" : "stale",
      reasons,
      outputHash: out,
      upstream,
    });
  }
  for (const w of store.warnings) opts.reporter?.warn(w);
  return plans;
}

export function newRunId(): string {
  return `${new Date().toISOString().replace(/[:.]/g, "-")}-${crypto.randomUUID().slice(0, 6)}`;
}

/**
 * Run the graph: reuse fresh objects, run stale stages into temp dirs, commit them atomically. Each stale key
 * is claimed first (claims.ts), so concurrent runs over one store share work instead of repeating it.
 */
export async function runPipeline(opts: PipelineOptions): Promise<RunResult> {
  const reporter = opts.reporter ?? silentReporter;
  const stages = selectStages(opts.stages, opts.until);
  // every section is validated, also those of stages --until leaves out: a typo fails now, not later
  const resolved = resolveConfig(opts.stages, opts.config);
  for (const f of opts.force ?? []) {
    if (!opts.stages.some((s) => s.name === f)) throw new ParamError(`--force ${f}: no such stage`);
  }
  const store = new Store(opts.storeDir);
  await store.init();
  const waitOpts = { wait: opts.wait, timeoutMs: opts.waitTimeoutMs, onWait: (m: string) => reporter.warn(m) };
  const storeLock = await acquireLock(opts.storeDir, waitOpts);
  const runId = opts.runId ?? newRunId();
  const branch = opts.branch || null;
  const records: RunRecord[] = [];
  const outputs: Record<string, string> = {};
  const resolvedStages: Record<string, LockStage> = {};
  const prevLock = await readLockFile(opts.storeDir);
  const force = new Set(opts.force ?? []);
  const signal = opts.signal ?? new AbortController().signal;
  try {
    await sweepDeadAttempts(store);
    const hashes = new Map<string, string>();
    for (const s of stages) {
      signal.throwIfAborted();
      const params = resolved[s.name];
      const code = await withData(s, params, fingerprint(s.module, opts.root, s.extraSources));
      const upstream: Record<string, string> = {};
      for (const u of s.upstream) upstream[u] = hashes.get(u)!;
      const key = keyOf(s, params, code, upstream);
      const started = new Date();
      const record = (status: RunRecord["status"], reason: string, out: string | null, error: string | null) =>
        records.push({
          run_id: runId,
          stage: s.name,
          key,
          status,
          reason,
          params,
          inputs: upstream,
          output_hash: out,
          started: started.toISOString(),
          duration_s: (Date.now() - started.getTime()) / 1000,
          error,
          branch,
        });
      const verify = async () => {
        if (force.has(s.name)) return null;
        const hash = await store.verify(key);
        for (const w of store.warnings.splice(0)) reporter.warn(w);
        return hash;
      };
      let out = await verify();
      let status: RunRecord["status"] = "fresh";
      let reason = "";
      const a: Attempt = {
        store,
        key,
        params,
        upstream,
        inputs: Object.fromEntries(s.upstream.map((u) => [u, store.objectDir(outputs[u])])),
        config: resolved,
        reporter,
        signal,
        onFail: (msg) => record("failed", reason, null, msg),
        keyOf: (p) => keyOf(s, p, code, upstream),
      };
      if (out === null && opts.part !== undefined && s === stages.at(-1)) {
        await partOnly(s, a, opts.part, started); // a part job: the merge (and its record) comes later
        break;
      }
      if (out === null) {
        const claim = await claimKey(opts.storeDir, key, s.name, waitOpts);
        try {
          // another run may have committed this key while we waited for its claim
          out = await verify();
          if (out === null) {
            reason = force.has(s.name)
              ? "forced (--force)"
              : explain(s, previousOf(prevLock, s.name, opts.branch), params, code, upstream, []).join("; ");
            reporter.stageStart(s.name, reason, s.unit);
            out = await attempt(s, a, started);
            status = "ran";
          }
        } finally {
          claim.release();
        }
      }
      const seconds = (Date.now() - started.getTime()) / 1000;
      if (status === "fresh") reporter.stageStart(s.name, "", s.unit);
      reporter.stageEnd(s.name, status, seconds);
      hashes.set(s.name, out);
      outputs[s.name] = key;
      record(status, reason, out, null);
      resolvedStages[s.name] = {
        key,
        output_hash: out,
        path: join("objects", key),
        params,
        upstream,
        code,
        runtime: Deno.version.deno,
      };
    }
    return { runId, records, outputs };
  } finally {
    if (records.length) {
      await appendRunRecords(opts.storeDir, records);
      await updateLockFile(opts.storeDir, runId, resolvedStages, branch);
    }
    storeLock.release();
  }
}
