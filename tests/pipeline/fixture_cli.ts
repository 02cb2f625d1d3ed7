/**
 * The engine's CLI over the fixture graph in `$FIXTURE_GRAPH` (see fixture_graph.ts), as a program of its own:
 * the executors' jobs rerun this module, as they rerun `stages/cli.ts` for the real graph.
 */
import { runCli } from "../../pipeline/cli.ts";
import { loadFixtureGraph } from "./fixture_graph.ts";

const dir = Deno.env.get("FIXTURE_GRAPH");
if (!dir) throw new Error("FIXTURE_GRAPH is not set");
const stages = await loadFixtureGraph(dir);
Deno.exit(
  await runCli(Deno.args, {
    stages,
    root: dir,
    defaultConfig: `${dir}/pipeline.json`,
    defaultStore: `${dir}/store`,
    gpuStages: ["s1"],
  }),
);
