/**
 * `--executor slurm`: each stage run of the sweep is one SLURM batch job (`sbatch --wrap`), submitted at
 * once with `--dependency=afterok:<upstream job ids>` and `--kill-on-invalid-dep=yes` (a failed upstream
 * cancels its dependents), resources per stage from the config. Progress is the jobs' log files, followed
 * and printed with the job's name; states come from `squeue`, then `scontrol show job` once a job left the
 * queue. Ctrl-C cancels every job still queued or running (`scancel`). The wrapped command prints its exit
 * code last, so a job's fate is known from its log even after the controller forgot it.
 */
import { type JobOutcome, type JobPlan, LogFollower, logTail } from "./jobs.ts";
import { sbatchOptions, type StageResources } from "./resources.ts";
import { ifMissing } from "./missing.ts";

export interface SlurmExecutorOptions {
  resources: Record<string, StageResources>;
  signal: AbortSignal;
  print(line: string): void;
  /** Seconds between queue polls (default 1). */
  pollSeconds?: number;
}

const EXIT_MARK = "[sae-pipeline job exit]";

async function sh(cmd: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  let r: Deno.CommandOutput;
  try {
    r = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped" }).output();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      throw new Error(`${cmd} not found: --executor slurm needs SLURM's client tools on PATH`);
    }
    throw e;
  }
  const dec = new TextDecoder();
  return { code: r.code, out: dec.decode(r.stdout).trim(), err: dec.decode(r.stderr).trim() };
}

function quote(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`;
}

/** Submit every job (in dependency order); returns job id per node id. */
async function submit(jobs: JobPlan[], o: SlurmExecutorOptions): Promise<Map<string, string>> {
  const ids = new Map<string, string>();
  for (const job of jobs) {
    const deps = job.node.deps.map((d) => ids.get(d)!);
    const wrapped = `${job.argv.map(quote).join(" ")}; rc=$?; echo "${EXIT_MARK} $rc"; exit $rc`;
    const args = [
      "--parsable",
      `--job-name=sae-${job.node.stage}`,
      `--output=${job.log}`,
      "--open-mode=append",
      "--kill-on-invalid-dep=yes",
      ...(deps.length ? [`--dependency=afterok:${deps.join(":")}`] : []),
      ...sbatchOptions(o.resources, job.node.stage),
      `--wrap=${wrapped}`,
    ];
    const r = await sh("sbatch", args);
    if (r.code !== 0) {
      if (ids.size) await sh("scancel", [...ids.values()]);
      throw new Error(`sbatch failed for ${job.name}: ${r.err || r.out}`);
    }
    const id = r.out.split(";")[0];
    ids.set(job.node.id, id);
    o.print(`▶ job ${id} ${job.name}: submitted${deps.length ? ` (after ${deps.join(", ")})` : ""}`);
  }
  return ids;
}

/** Job id -> state for the jobs still in the queue; null when squeue failed (controller busy: poll again). */
async function queueStates(ids: string[]): Promise<Map<string, string> | null> {
  const r = await sh("squeue", ["-h", "-o", "%i %T", "-j", ids.join(",")]);
  if (r.code !== 0 && !/Invalid job id/i.test(r.err)) return null;
  const states = new Map<string, string>();
  for (const line of r.out.split("\n")) {
    const [id, state] = line.trim().split(/\s+/);
    if (id && state) states.set(id, state);
  }
  return states;
}

/** A finished job's state: from the controller, else from the exit code the job printed in its log. */
async function finalState(id: string, log: string): Promise<{ state: JobOutcome["state"]; detail: string }> {
  const r = await sh("scontrol", ["show", "job", "-o", id]);
  const st = /JobState=(\S+)/.exec(r.out)?.[1];
  const exit = /ExitCode=(\S+)/.exec(r.out)?.[1];
  const reason = /Reason=(\S+)/.exec(r.out)?.[1];
  if (st) {
    const detail = `${st}${exit ? `, exit ${exit}` : ""}${reason && reason !== "None" ? `, ${reason}` : ""}`;
    if (st === "COMPLETED") return { state: "completed", detail };
    return { state: st === "CANCELLED" ? "cancelled" : "failed", detail };
  }
  const text = await ifMissing(Deno.readTextFile(log), "");
  const m = new RegExp(`${EXIT_MARK.replace(/[[\]]/g, "\\$&")} (\\d+)`).exec(text);
  if (m) return m[1] === "0" ? { state: "completed", detail: "exit 0" } : { state: "failed", detail: `exit ${m[1]}` };
  return { state: "failed", detail: "left the queue without an exit code (killed or cancelled)" };
}

export async function runSlurmJobs(jobs: JobPlan[], o: SlurmExecutorOptions): Promise<JobOutcome[]> {
  for (const job of jobs) await Deno.writeTextFile(job.log, "");
  const ids = await submit(jobs, o);
  const followers = new Map(jobs.map((j) => [j.node.id, new LogFollower(j.log)]));
  const done = new Map<string, JobOutcome>();
  let cancelled = false;
  let squeueFailed = false;
  const cancelAll = async () => {
    if (cancelled) return;
    cancelled = true;
    const live = jobs.filter((j) => !done.has(j.node.id)).map((j) => ids.get(j.node.id)!);
    o.print(`interrupted: scancel ${live.join(" ")}`);
    if (live.length) await sh("scancel", live);
  };
  const onAbort = () => void cancelAll();
  o.signal.addEventListener("abort", onAbort);
  try {
    while (done.size < jobs.length) {
      await new Promise((r) => setTimeout(r, (o.pollSeconds ?? 1) * 1000));
      const pending = jobs.filter((j) => !done.has(j.node.id));
      const queued = await queueStates(pending.map((j) => ids.get(j.node.id)!));
      if (!queued) {
        if (!squeueFailed) o.print("! squeue failed; polling again (job states are kept by the controller)");
        squeueFailed = true;
        continue;
      }
      for (const job of pending) {
        const id = ids.get(job.node.id)!;
        for (const line of await followers.get(job.node.id)!.poll()) {
          if (!line.startsWith(EXIT_MARK)) o.print(`[${id} ${job.name}] ${line}`);
        }
        if (queued.has(id)) continue;
        const { state, detail } = await finalState(id, job.log);
        done.set(job.node.id, { job, state, detail: `job ${id}: ${detail}` });
        if (state === "completed") o.print(`✓ job ${id} ${job.name}: completed`);
        else {
          const tail = await logTail(job.log);
          o.print(`✗ job ${id} ${job.name}: ${detail}; log ${job.log}${tail ? `, last lines:\n${indent(tail)}` : ""}`);
        }
      }
    }
  } finally {
    o.signal.removeEventListener("abort", onAbort);
  }
  return jobs.map((j) => done.get(j.node.id)!);
}

function indent(text: string): string {
  return text.split("\n").map((l) => `    ${l}`).join("\n");
}
