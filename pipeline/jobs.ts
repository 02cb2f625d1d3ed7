/**
 * Stage runs as separate processes (local `--jobs N`) or cluster jobs (`--executor slurm`): each job is the
 * pipeline's own CLI running `run --until <stage>` for one sweep point, recording under the sweep's run id.
 * Its upstreams are cache hits by then (the job starts after theirs), and claims keep two jobs from ever
 * computing one key. Job configs and logs live under `<store>/jobs/<run id>/`, on the store's filesystem,
 * so cluster nodes see them.
 */
import { join } from "node:path";
import type { BranchNode } from "./branches.ts";
import { ignoreMissing } from "./missing.ts";

export interface JobPlan {
  node: BranchNode;
  /** Short human name: `train [train.k=16]`. */
  name: string;
  /** The command: argv[0] is the executable. */
  argv: string[];
  log: string;
}

export interface JobOutcome {
  job: JobPlan;
  state: "completed" | "failed" | "cancelled" | "skipped";
  /** One line: exit code, scheduler state, or why it did not run. */
  detail: string;
}

export function jobName(node: BranchNode): string {
  const shared = node.points.length > 1 ? ` (+${node.points.length - 1} point(s))` : "";
  const stage = node.part ? `${node.stage} part ${node.part.index + 1}/${node.part.count}` : node.stage;
  return node.point.label ? `${stage} [${node.point.label}]${shared}` : stage;
}

/** Write each node's config and build its command line. `entry` is the CLI module the jobs run. */
export async function planJobs(
  nodes: BranchNode[],
  o: { entry: string; storeDir: string; runId: string; wait: boolean },
): Promise<JobPlan[]> {
  const dir = join(o.storeDir, "jobs", o.runId);
  await Deno.mkdir(dir, { recursive: true });
  const configs = new Map<string, string>();
  const plans: JobPlan[] = [];
  for (const node of nodes) {
    let cfg = configs.get(node.point.label);
    if (!cfg) {
      cfg = join(dir, `point-${configs.size}.json`);
      await Deno.writeTextFile(cfg, JSON.stringify(node.point.config, null, 1));
      configs.set(node.point.label, cfg);
    }
    const argv = [Deno.execPath(), "run", "-A", o.entry, "run", "--until", node.stage, "--config", cfg];
    argv.push("--store", o.storeDir, "--run-id", o.runId, "--branch", node.point.label);
    if (!o.wait) argv.push("--no-wait");
    if (node.part) argv.push("--part", String(node.part.index));
    plans.push({ node, name: jobName(node), argv, log: join(dir, `${node.stage}-${node.id}.log`) });
  }
  return plans;
}

/** The last `n` lines of a log file ("" when it cannot be read). */
export async function logTail(path: string, n = 20): Promise<string> {
  try {
    const lines = (await Deno.readTextFile(path)).trimEnd().split("\n");
    return lines.slice(-n).join("\n");
  } catch (e) {
    ignoreMissing(e);
    return "";
  }
}

/** Follows a growing log file: each `poll()` returns the complete lines written since the last one. */
export class LogFollower {
  #offset = 0;
  #partial = "";
  constructor(readonly path: string) {}

  async poll(): Promise<string[]> {
    let file: Deno.FsFile;
    try {
      file = await Deno.open(this.path, { read: true });
    } catch (e) {
      ignoreMissing(e); // not written yet
      return [];
    }
    try {
      await file.seek(this.#offset, Deno.SeekMode.Start);
      const chunks: Uint8Array[] = [];
      const buf = new Uint8Array(65536);
      for (let n = await file.read(buf); n !== null && n > 0; n = await file.read(buf)) {
        chunks.push(buf.slice(0, n));
        this.#offset += n;
      }
      const text = this.#partial + new TextDecoder().decode(concat(chunks));
      const lines = text.split("\n");
      this.#partial = lines.pop() ?? "";
      return lines;
    } finally {
      file.close();
    }
  }
}

function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}

/** Jobs whose deps have all completed; a job with a failed, cancelled or skipped dep is skipped. */
export function readyJobs(
  jobs: JobPlan[],
  done: Map<string, JobOutcome>,
  started: Set<string>,
): { ready: JobPlan[]; skipped: JobOutcome[] } {
  const ready: JobPlan[] = [], skipped: JobOutcome[] = [];
  for (const job of jobs) {
    const id = job.node.id;
    if (started.has(id) || done.has(id)) continue;
    const bad = job.node.deps.map((d) => done.get(d)).find((o) => o && o.state !== "completed");
    if (bad) skipped.push({ job, state: "skipped", detail: `not run: ${bad.job.name} ${bad.state}` });
    else if (job.node.deps.every((d) => done.get(d)?.state === "completed")) ready.push(job);
  }
  return { ready, skipped };
}
