/**
 * What a stage is: a name, its upstream stages, a param schema (its section of the config), the
 * module whose import graph fingerprints its code, and `run(ctx)` which writes files into `ctx.outDir`.
 * The engine knows nothing about SAEs.
 */
import type { ParamSchema } from "./params.ts";

export interface StageContext<P = Record<string, unknown>> {
  /** This stage's validated params (its config section with defaults filled). */
  params: P;
  /** Write every output here. It is a temporary directory, renamed into the store when run() resolves. */
  outDir: string;
  /** Upstream stage name -> that stage's (read-only) output directory. */
  inputs: Record<string, string>;
  /**
   * A directory that survives an interrupted attempt of the *same* cache key (checkpoints for
   * resume). Removed after the stage succeeds.
   */
  scratchDir: string;
  /** The full resolved config (every section), for stages that report it; do not read other sections' params for behaviour. */
  config: Record<string, Record<string, unknown>>;
  /** Report progress: `done` of `total` units (`unit` names them, e.g. "tokens"); `info` is a short status. */
  progress(done: number, total: number, info?: string): void;
  /** A line of log output (shown above the progress bar, or plain when not a terminal). */
  log(message: string): void;
  /** Aborted on Ctrl-C; long stages may check it to checkpoint before exiting. */
  signal: AbortSignal;
  /**
   * Further outputs to write in this run, one per sibling param set (see `Stage.siblings`) not yet in the
   * store: write sibling i's files into `siblings[i].outDir` exactly as a run with its params would.
   */
  siblings?: { params: P; outDir: string }[];
  /** For a partitioned stage (see `Stage.parts`): the directories of its completed parts, in order, to merge. */
  parts?: string[];
  /** Set when this call computes one part of a partitioned run: write the part into `part.dir`, not outDir. */
  part?: StagePart;
}

/** One part of a partitioned run: part `index` of `count`, written into `dir`. */
export interface StagePart {
  index: number;
  count: number;
  dir: string;
}

export interface Stage<P = Record<string, unknown>> {
  name: string;
  /** Names of the stages whose outputs this one reads (available in ctx.inputs). */
  upstream: readonly string[];
  /** The keys of this stage's config section. */
  params: ParamSchema;
  /** One-line description (CLI help). */
  description: string;
  /**
   * The stage module's `import.meta.url`. Its local import graph (and any `.wgsl` or other file it
   * references with `new URL("…", import.meta.url)`) is the stage's code fingerprint.
   */
  module: string;
  /** Extra files the code depends on that the import scan cannot see (relative to the repo root or absolute URLs). */
  extraSources?: readonly string[];
  /**
   * Data the stage reads from outside the store (a user's corpus files or model directory): files or
   * directories whose content enters the key, so editing them reruns the stage.
   */
  dataFiles?(params: P): string[];
  /** npm packages whose versions enter the key (names as in deno.json imports). */
  packages?: readonly string[];
  /** Unit of progress shown in the bar (e.g. "tokens", "steps"). */
  unit?: string;
  /**
   * Param sets whose outputs one run of this stage writes too (e.g. several hooks from one forward pass):
   * each becomes its own object under the key of its params, so a later run with them is a cache hit. A
   * sibling must write exactly what a run with its params would.
   */
  siblings?(params: P): P[];
  /**
   * Split a run into this many parts (1: not split). `run` is called once per part with `ctx.part` set (in
   * process, or as its own job under `--jobs`/`--executor slurm`), then once with `ctx.parts` to merge them into
   * the output, which must be exactly what an unsplit run writes.
   */
  parts?(params: P): number;
  /**
   * Params this stage takes from other (resolved) sections, returned as its params with them added: they enter
   * its key like its own (e.g. extract also writes the hook `train.target_hook` names). Called before `validate`.
   */
  derive?(params: P, config: Record<string, Record<string, unknown>>): P;
  /** Optional check of params against each other, before anything runs; throw ParamError with one line. */
  validate?(params: P): void;
  run(ctx: StageContext<P>): Promise<void>;
}

/** Identity helper that keeps the param type of a stage. */
export function defineStage<P = Record<string, unknown>>(stage: Stage<P>): Stage<P> {
  return stage;
}
