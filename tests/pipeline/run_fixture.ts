/** Subprocess entry for the engine tests: `run_fixture.ts <graphDir> <storeDir> <configJSON> [--no-wait]`. */
import { runPipeline } from "../../pipeline/run.ts";
import { loadFixtureGraph } from "./fixture_graph.ts";

const [dir, store, config, flag] = Deno.args;
const stages = await loadFixtureGraph(dir);
try {
  const res = await runPipeline({
    stages,
    config: JSON.parse(config),
    storeDir: store,
    root: dir,
    wait: flag !== "--no-wait",
  });
  console.log(JSON.stringify(res.records.map((r) => [r.stage, r.status])));
} catch (e) {
  console.error(`error: ${(e as Error).message}`);
  Deno.exit(3);
}
