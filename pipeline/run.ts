/**
 * Plan and run a DAG of stages over the content-addressed store.
 *
 * Key of a stage = sha256(canonical JSON of: stage name, code fingerprint (files + npm packages), params,
 * each upstream's *output content hash*, Deno version). Because downstream keys use upstream content, a
 * stage that reruns and reproduces identical bytes stops invalidation there (early cutoff).
 */
import { join } from "node:path";
import { canonicalJson, hashDataFiles, hashJson } from "./hash.ts";
import { type CodeFingerprint, fingerprint } from "./fingerprint.ts";
import { ParamError, resolveParams } from "./params.ts";
import type { Stage, StageContext } from "./stage.ts";
import { Store } from "./store.ts";
import { acquireLock } from "./lock.ts";
import {
  appendRunRecords,
  type LockFile,
  type LockStage,
  readLockFile,
  type RunRecord,
  writeLockFile,
} from "./records.ts";
import { ignoreMissing } from "./missing.ts";

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

/** A stage's run() threw; the reporter has already shown the message. */
export class StageFailedError extends Error {
  constructor(readonly stage: string, message: string, override readonly cause: unknown) {
    super(`stage ${stage} failed: ${message}`);
    this.name = "StageFailedError";
  }
}

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
    if (!names.has(section)) {
      throw new ParamError(`unknown config section "${section}" (stages: ${[...names].join(", ")})`);
    }
  }
  const resolved: Record<string, Record<string, unknown>> = {};
  for (const s of stages) {
    const params = resolveParams(s.name, s.params, config[s.name] as Record<string, unknown> | undefined);
    s.validate?.(params);
    resolved[s.name] = params;
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

function fmt(v: unknown): string {
  return v === undefined ? "(unset)" : canonicalJson(v);
}

/** Why a stage is stale, relative to what the last run recorded for it. */
function explain(
  stage: AnyStage,
  prev: LockStage | undefined,
  params: Record<string, unknown>,
  code: CodeFingerprint,
  upstream: Record<string, string | null>,
  pendingUpstreams: string[],
): string[] {
  if (!prev) return ["no cached output for these inputs (never run with them)"];
  const reasons: string[] = [];
  const keys = new Set([...Object.keys(prev.params ?? {}), ...Object.keys(params)]);
  for (const k of [...keys].sort()) {
    if (canonicalJson(prev.params?.[k]) !== canonicalJson(params[k])) {
      reasons.push(`param ${stage.name}.${k}: ${fmt(prev.params?.[k])} → ${fmt(params[k])}`);
    }
  }
  const files = new Set([...Object.keys(prev.code?.files ?? {}), ...Object.keys(code.files)]);
  for (const f of [...files].sort()) {
    const a = prev.code?.files?.[f], b = code.files[f];
    if (a === b) continue;
    const what = f.startsWith("data:") ? "input data" : "code";
    const name = f.replace(/^data:/, "");
    reasons.push(
      a === undefined
        ? `${what} file added: ${name}`
        : b === undefined
        ? `${what} file removed: ${name}`
        : `${what} changed: ${name}`,
    );
  }
  const pk = new Set([...Object.keys(prev.code?.packages ?? {}), ...Object.keys(code.packages)]);
  for (const p of [...pk].sort()) {
    if (prev.code?.packages?.[p] !== code.packages[p]) {
      reasons.push(`package ${p}: ${prev.code?.packages?.[p] ?? "-"} → ${code.packages[p] ?? "-"}`);
    }
  }
  for (const u of pendingUpstreams) reasons.push(`upstream ${u} will rerun (its output may change)`);
  for (const [u, h] of Object.entries(upstream)) {
    if (h && prev.upstream?.[u] !== h) reasons.push(`upstream ${u} output changed`);
  }
  if (prev.runtime && prev.runtime !== Deno.version.deno) {
    reasons.push(`runtime: deno ${prev.runtime} → ${Deno.version.deno}`);
  }
  if (reasons.length === 0) reasons.push("cached output missing or corrupt");
  return reasons;
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
      : explain(s, lock?.stages[s.name], params, code, upstream, pending);
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

function newRunId(): string {
  return `${new Date().toISOString().replace(/[:.]/g, "-")}-${crypto.randomUUID().slice(0, 6)}`;
}

/** Run the graph: reuse fresh objects, run stale stages into temp dirs, commit them atomically. */
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
  const lock = await acquireLock(opts.storeDir, {
    wait: opts.wait,
    timeoutMs: opts.waitTimeoutMs,
    onWait: (m) => reporter.warn(m),
  });
  const runId = newRunId();
  const records: RunRecord[] = [];
  const outputs: Record<string, string> = {};
  const prevLock = await readLockFile(opts.storeDir);
  const lockOut: LockFile = {
    run_id: runId,
    created: new Date().toISOString(),
    stages: { ...(prevLock?.stages ?? {}) },
  };
  const force = new Set(opts.force ?? []);
  const signal = opts.signal ?? new AbortController().signal;
  try {
    await store.cleanTmp();
    const hashes = new Map<string, string>();
    for (const s of stages) {
      signal.throwIfAborted();
      const params = resolved[s.name];
      const code = await withData(s, params, fingerprint(s.module, opts.root, s.extraSources));
      const upstream: Record<string, string> = {};
      for (const u of s.upstream) upstream[u] = hashes.get(u)!;
      const key = keyOf(s, params, code, upstream);
      const started = new Date();
      let out = force.has(s.name) ? null : await store.verify(key);
      for (const w of store.warnings.splice(0)) reporter.warn(w);
      let status: RunRecord["status"] = "fresh";
      let reason = "";
      if (out === null) {
        reason = force.has(s.name)
          ? "forced (--force)"
          : explain(s, prevLock?.stages[s.name], params, code, upstream, []).join("; ");
        reporter.stageStart(s.name, reason, s.unit);
        const tmp = await store.makeTmp(key);
        const scratchDir = store.scratchDir(key);
        await Deno.mkdir(scratchDir, { recursive: true });
        const ctx: StageContext = {
          params,
          outDir: tmp,
          inputs: Object.fromEntries(s.upstream.map((u) => [u, store.objectDir(outputs[u])])),
          scratchDir,
          config: resolved,
          progress: (done, total, info) => reporter.progress(s.name, done, total, info),
          log: (m) => reporter.log(s.name, m),
          signal,
        };
        try {
          await s.run(ctx);
          signal.throwIfAborted();
          out = await store.commit(tmp, key);
        } catch (e) {
          await Deno.remove(tmp, { recursive: true }).catch(ignoreMissing);
          const seconds = (Date.now() - started.getTime()) / 1000;
          const msg = signal.aborted ? "interrupted" : (e instanceof Error ? e.message : String(e));
          records.push({
            run_id: runId,
            stage: s.name,
            key,
            status: "failed",
            reason,
            params,
            inputs: upstream,
            output_hash: null,
            started: started.toISOString(),
            duration_s: seconds,
            error: msg,
          });
          reporter.stageEnd(s.name, "failed", seconds, msg);
          throw new StageFailedError(s.name, msg, e);
        }
        await Deno.remove(scratchDir, { recursive: true }).catch(ignoreMissing);
        status = "ran";
      }
      const seconds = (Date.now() - started.getTime()) / 1000;
      if (status === "fresh") reporter.stageStart(s.name, "", s.unit);
      reporter.stageEnd(s.name, status, seconds);
      hashes.set(s.name, out);
      outputs[s.name] = key;
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
        duration_s: seconds,
        error: null,
      });
      lockOut.stages[s.name] = {
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
      await writeLockFile(opts.storeDir, lockOut);
    }
    lock.release();
  }
}
