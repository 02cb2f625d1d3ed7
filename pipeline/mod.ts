/** The DAG engine: stages, params, the content-addressed store, runs and the CLI. Knows nothing about SAEs. */
export { defineStage, type Stage, type StageContext } from "./stage.ts";
export { ParamError, type ParamSchema, type ParamSpec, resolveParams } from "./params.ts";
export {
  type PipelineOptions,
  planPipeline,
  type Reporter,
  runPipeline,
  type RunResult,
  type StagePlan,
  topoSort,
} from "./run.ts";
export { Store } from "./store.ts";
export { acquireLock, LockBusyError } from "./lock.ts";
export { type LockFile, readLockFile, readRunRecords, type RunRecord } from "./records.ts";
export { applySets, configReference, loadConfig, runCli } from "./cli.ts";
export { createReporter } from "./progress.ts";
export { expandSweep, type SweepPoint } from "./sweep.ts";
export { runSweep, type SweepOptions, type SweepResult } from "./sweep_run.ts";
