/**
 * Run every point of a sweep (or the one point of a plain run) under one run id, each point recorded as
 * its own branch. The in-process executor runs the points one after another (upstream objects are then
 * cache hits for every point after the first). `--jobs N` and `--executor slurm` turn the points into
 * their deduplicated stage runs (branches.ts) and run those as processes or cluster jobs; a final
 * in-process pass over each completed point, all cache hits by then, records every point's stages as a
 * sequential run would, so results and lineage do not depend on the executor.
 */
import { branchGraph } from "./branches.ts";
import { runLocalJobs } from "./executor_local.ts";
import { runSlurmJobs } from "./executor_slurm.ts";
import { type JobOutcome, planJobs } from "./jobs.ts";
import { ParamError } from "./params.ts";
import { readResources } from "./resources.ts";
import {
  newRunId,
  type PipelineOptions,
  type Reporter,
  resolveConfig,
  runPipeline,
  type RunResult,
  silentReporter,
  StageFailedError,
} from "./run.ts";
import type { SweepPoint } from "./sweep.ts";

export interface SweepOptions extends PipelineOptions {
  points: SweepPoint[];
  /** Concurrent stage runs on this machine (1: in-process, one point after another). */
  jobs?: number;
  executor?: "local" | "slurm";
  /** The CLI module that jobs run (default: this program's main module). */
  entry?: string;
  /** Stages that hold the device while they run (local executor: one at a time). */
  gpuStages?: readonly string[];
  /** Printer for job lines (default console.log). */
  print?: (line: string) => void;
}

export interface PointResult {
  point: SweepPoint;
  /** Null when the point failed or was not run. */
  result: RunResult | null;
  error: string | null;
}

export interface SweepResult {
  runId: string;
  points: PointResult[];
  jobs: JobOutcome[];
}

/** Run each point in this process, keeping on after a failed point (Ctrl-C stops everything). */
async function runPoints(o: SweepOptions, runId: string, only?: Set<string>): Promise<PointResult[]> {
  // after jobs, every stage is a cache hit: show only warnings, not a "cached" line per stage and point
  const reporter: Reporter | undefined = only
    ? { ...silentReporter, warn: (m) => (o.reporter ?? silentReporter).warn(m) }
    : o.reporter;
  const out: PointResult[] = [];
  for (const point of o.points) {
    if (only && !only.has(point.label)) {
      out.push({ point, result: null, error: "a job of this point did not complete" });
      continue;
    }
    o.signal?.throwIfAborted();
    try {
      out.push({
        point,
        result: await runPipeline({ ...o, reporter, config: point.config, runId, branch: point.label }),
        error: null,
      });
    } catch (e) {
      if (!(e instanceof StageFailedError) || o.signal?.aborted || o.points.length === 1) throw e;
      out.push({ point, result: null, error: e.message });
    }
  }
  return out;
}

export async function runSweep(o: SweepOptions): Promise<SweepResult> {
  const runId = o.runId ?? newRunId();
  const jobs = o.jobs ?? 1;
  if (!Number.isInteger(jobs) || jobs < 1) throw new ParamError(`--jobs ${jobs}: expected a positive integer`);
  const executor = o.executor ?? "local";
  const resources = readResources(o.config, o.stages.map((s) => s.name));
  // every point's config is checked before anything runs, each stage's own cross-param checks included
  for (const p of o.points) {
    try {
      resolveConfig(o.stages, p.config);
    } catch (e) {
      if (e instanceof ParamError && p.label) throw new ParamError(`point ${p.label}: ${e.message}`);
      throw e;
    }
  }
  if (executor === "local" && jobs === 1) return { runId, points: await runPoints(o, runId), jobs: [] };

  const nodes = branchGraph(o.stages, o.points, o.until);
  const plans = await planJobs(nodes, {
    entry: o.entry ?? Deno.mainModule,
    storeDir: o.storeDir,
    runId,
    wait: o.wait ?? true,
  });
  const print = o.print ?? ((l: string) => console.log(l));
  const signal = o.signal ?? new AbortController().signal;
  const outcomes = executor === "slurm"
    ? await runSlurmJobs(plans, { resources, signal, print })
    : await runLocalJobs(plans, { jobs, gpuStages: new Set(o.gpuStages ?? []), signal, print });
  signal.throwIfAborted();
  const failed = new Set(outcomes.filter((x) => x.state !== "completed").flatMap((x) => x.job.node.points));
  const complete = new Set(o.points.map((p) => p.label).filter((l) => !failed.has(l)));
  return { runId, points: await runPoints(o, runId, complete), jobs: outcomes };
}
