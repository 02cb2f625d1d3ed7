/**
 * Engine overhead: wall time of a no-op rerun of a 6-stage graph, as a user sees it (a fresh `deno run`
 * process: Deno start-up, module loading, fingerprinting, verifying every object). Median of 5.
 * If the default pipeline has run in data/store, also times a no-op `deno task pipeline`.
 *   usage: deno run -A bench/pipeline_bench.ts [--json]
 */
import "../stages/cli_help.ts"; // --help prints the comment above
import { join } from "node:path";
import { writeFixtureGraph } from "../tests/pipeline/fixture_graph.ts";

const json = Deno.args.includes("--json");
const report = (name: string, params: unknown, value: number, unit: string) => {
  const r = { name, params, value: Number(value.toFixed(3)), unit };
  console.log(json ? JSON.stringify(r) : `${name}: ${r.value} ${unit}`);
};

async function time(cmd: string[], cwd?: string): Promise<number> {
  const t0 = performance.now();
  const out = await new Deno.Command(cmd[0], { args: cmd.slice(1), cwd, stdout: "null", stderr: "piped" }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  return (performance.now() - t0) / 1000;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dir = await Deno.makeTempDir({ prefix: "noop_bench_" });
await writeFixtureGraph(join(dir, "graph"), 6);
const runner = new URL("../tests/pipeline/run_fixture.ts", import.meta.url).pathname;
const cmd = [Deno.execPath(), "run", "-A", runner, join(dir, "graph"), join(dir, "store"), "{}"];
await time(cmd); // first run executes the 6 stages
const noop = [];
for (let i = 0; i < 5; i++) noop.push(await time(cmd));
report("pipeline.noop_6_stages", { stages: 6, repeats: 5 }, median(noop), "s");
await Deno.remove(dir, { recursive: true });

const root = new URL("..", import.meta.url).pathname;
try {
  await Deno.stat(join(root, "data/store/pipeline.lock.json"));
  const real = [];
  for (let i = 0; i < 3; i++) real.push(await time([Deno.execPath(), "task", "-q", "pipeline", "--quiet"], root));
  report("pipeline.noop_default", { repeats: 3 }, median(real), "s");
} catch (e) {
  if (!(e instanceof Deno.errors.NotFound)) throw e;
  console.error("pipeline.noop_default skipped: run `deno task pipeline` once first");
}
