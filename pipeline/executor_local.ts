/**
 * `--jobs N`: runs a sweep's stage runs as up to N concurrent child processes on this machine, each as soon
 * as its upstream runs have completed. Stages that declare the `gpu` resource share the machine's one
 * device: at most `gpuSlots` of them run at once (default 1: each would otherwise hold its own weights and
 * optimizer state on the device and time-slice it), while other stages run beside them. Every child's
 * output goes to its log file and, prefixed with the job's name, to ours. Ctrl-C is passed on as SIGINT,
 * so children checkpoint and exit as a single run would.
 */
import { type JobOutcome, type JobPlan, LogFollower, readyJobs } from "./jobs.ts";

export interface LocalExecutorOptions {
  jobs: number;
  /** Stages holding the device while they run. */
  gpuStages: ReadonlySet<string>;
  gpuSlots?: number;
  signal: AbortSignal;
  print(line: string): void;
}

interface Running {
  job: JobPlan;
  child: Deno.ChildProcess;
  follower: LogFollower;
  done: Promise<Deno.CommandStatus>;
  gpu: boolean;
}

export async function runLocalJobs(jobs: JobPlan[], o: LocalExecutorOptions): Promise<JobOutcome[]> {
  const gpuSlots = o.gpuSlots ?? 1;
  const done = new Map<string, JobOutcome>();
  const started = new Set<string>();
  const running = new Map<string, Running>();
  const onAbort = () => {
    for (const r of running.values()) {
      try {
        r.child.kill("SIGINT");
      } catch (e) {
        if (!(e instanceof TypeError)) throw e; // the child already exited
      }
    }
  };
  o.signal.addEventListener("abort", onAbort);
  const flush = async (r: Running) => {
    for (const line of await r.follower.poll()) o.print(`[${r.job.name}] ${line}`);
  };
  try {
    while (done.size < jobs.length) {
      const { ready, skipped } = readyJobs(jobs, done, started);
      for (const s of skipped) done.set(s.job.node.id, s);
      if (!o.signal.aborted) {
        for (const job of ready) {
          const gpu = o.gpuStages.has(job.node.stage);
          const gpuBusy = [...running.values()].filter((r) => r.gpu).length;
          if (running.size >= o.jobs || (gpu && gpuBusy >= gpuSlots)) continue;
          started.add(job.node.id);
          const log = await Deno.open(job.log, { write: true, create: true, truncate: true });
          const child = new Deno.Command(job.argv[0], {
            args: job.argv.slice(1),
            stdin: "null",
            stdout: "piped",
            stderr: "piped",
            env: { NO_COLOR: "1" },
          }).spawn();
          // both streams into the one log file, in arrival order
          const pump = async (s: ReadableStream<Uint8Array>) => {
            for await (const chunk of s) await log.write(chunk);
          };
          const pumped = Promise.all([pump(child.stdout), pump(child.stderr)]);
          const status = child.status.then(async (st) => {
            await pumped;
            log.close();
            return st;
          });
          o.print(`▶ job ${job.name}: started (pid ${child.pid})`);
          running.set(job.node.id, { job, child, follower: new LogFollower(job.log), done: status, gpu });
        }
      } else {
        for (const job of ready) done.set(job.node.id, { job, state: "cancelled", detail: "not run: interrupted" });
      }
      if (running.size === 0) {
        if (done.size < jobs.length && ready.length === 0 && skipped.length === 0) {
          throw new Error("job graph is stuck: a dependency is missing (engine bug)");
        }
        continue;
      }
      const tick = new Promise<null>((r) => setTimeout(() => r(null), 500));
      const finished = await Promise.race([
        ...[...running.values()].map((r) => r.done.then((st) => ({ r, st }))),
        tick,
      ]);
      for (const r of running.values()) await flush(r);
      if (!finished) continue;
      const { r, st } = finished;
      running.delete(r.job.node.id);
      await flush(r);
      const outcome: JobOutcome = st.success
        ? { job: r.job, state: "completed", detail: "exit 0" }
        : o.signal.aborted
        ? { job: r.job, state: "cancelled", detail: `interrupted (exit ${st.code})` }
        : { job: r.job, state: "failed", detail: `exit ${st.code}${st.signal ? `, signal ${st.signal}` : ""}` };
      done.set(r.job.node.id, outcome);
    }
  } finally {
    o.signal.removeEventListener("abort", onAbort);
  }
  return jobs.map((j) => done.get(j.node.id)!);
}
