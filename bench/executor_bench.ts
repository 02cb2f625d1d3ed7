/**
 * Executor overhead per stage run: a chain of 6 trivial fixture stages (each writes a few small files) on a
 * fresh store, run through the CLI in process (`--jobs 1`), as local child processes (`--jobs 2`; the chain
 * leaves nothing to run in parallel) and as SLURM jobs (`--executor slurm`, when a cluster answers `sinfo`).
 * Overhead per job = (executor wall time − in-process wall time) / 6; medians of 3.
 * Then `--jobs 2` against `--jobs 1` on the tiny 2×2 sweep of the tests (train.k × train.lr, 15 stage runs), fresh
 * stores, one run each: the ratio decides the default of `--jobs` on this machine.
 *   deno run -A bench/executor_bench.ts [--json]
 */
import "../stages/cli_help.ts"; // --help prints the comment above
import { join } from "node:path";
import { writeFixtureGraph } from "../tests/pipeline/fixture_graph.ts";
import { pipeline, tinySetup } from "../tests/fixtures/tiny_pipeline.ts";

const json = Deno.args.includes("--json");
const report = (name: string, params: unknown, value: number, unit: string) => {
  const r = { name, params, value: Number(value.toFixed(3)), unit };
  console.log(json ? JSON.stringify(r) : `${name}: ${r.value} ${unit}`);
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dir = await Deno.makeTempDir({ prefix: "executor_bench_" });
const graph = join(dir, "graph");
await writeFixtureGraph(graph, 6);
const cliModule = new URL("../tests/pipeline/fixture_cli.ts", import.meta.url).pathname;

async function time(flags: string[], i: number): Promise<number> {
  const store = join(dir, `store-${flags.join("")}-${i}`);
  const t0 = performance.now();
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", cliModule, "run", "-q", "--store", store, "--config", join(dir, "none.json"), ...flags],
    env: { FIXTURE_GRAPH: graph },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout));
  return (performance.now() - t0) / 1000;
}

await Deno.writeTextFile(join(dir, "none.json"), "{}");
const slurm = await new Deno.Command("sinfo", { args: ["-h", "-o", "%t"], stdout: "piped", stderr: "null" }).output()
  .then((o) => o.success && /idle|mix|alloc/.test(new TextDecoder().decode(o.stdout))).catch(() => false);
const variants: [string, string[]][] = [["in_process", ["--jobs", "1"]], ["local_processes", ["--jobs", "2"]]];
if (slurm) variants.push(["slurm", ["--executor", "slurm"]]);
else console.error("executor.slurm skipped: no SLURM cluster answers sinfo (.ci/start_slurm.sh starts one)");
const times: Record<string, number> = {};
for (const [name, flags] of variants) {
  const xs = [];
  for (let i = 0; i < 3; i++) xs.push(await time(flags, i));
  times[name] = median(xs);
  report(`executor.${name}_6_stages`, { stages: 6, repeats: 3 }, times[name], "s");
}
for (const name of Object.keys(times).filter((n) => n !== "in_process")) {
  report(`executor.${name}_per_job`, { stages: 6 }, (times[name] - times.in_process) / 6, "s");
}
await Deno.remove(dir, { recursive: true });

const tiny = await tinySetup();
const sweep = ["--sweep", "train.k=4,8", "--sweep", "train.lr=0.004,0.002", "-q"];
const sweepTimes: number[] = [];
for (const jobs of [1, 2]) {
  const t0 = performance.now();
  const r = await pipeline(["run", "--jobs", String(jobs), ...sweep], {
    ...tiny,
    store: join(tiny.dir, `store-${jobs}`),
  });
  if (r.code !== 0) throw new Error(r.text);
  sweepTimes.push((performance.now() - t0) / 1000);
  report(`executor.tiny_sweep_jobs${jobs}`, { points: 4, stage_runs: 15 }, sweepTimes.at(-1)!, "s");
}
report("executor.tiny_sweep_jobs2_over_jobs1", { points: 4 }, sweepTimes[1] / sweepTimes[0], "x");
await Deno.remove(tiny.dir, { recursive: true });
