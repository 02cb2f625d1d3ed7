/**
 * Sibling outputs (Stage.siblings): one run writes the objects of several param sets, each under the key its
 * params have, so later runs with those params are cache hits; siblings already stored are not rewritten,
 * and a failed run commits none of them.
 */
import { assertEquals, assertRejects } from "../assert.ts";
import { join } from "node:path";
import { defineStage } from "../../pipeline/stage.ts";
import { runPipeline } from "../../pipeline/run.ts";
import { branchGraph } from "../../pipeline/branches.ts";
import { expandSweep } from "../../pipeline/sweep.ts";

function setup() {
  const dir = Deno.makeTempDirSync({ prefix: "siblings_test_" });
  const runs: { name: string; siblings: string[] }[] = [];
  const stage = defineStage<{ name: string; names: string[]; fail: boolean }>({
    name: "gen",
    upstream: [],
    description: "writes its name, and its siblings' names, in one run",
    module: import.meta.url,
    params: {
      name: { type: "string", default: "a", doc: "this output's name" },
      names: { type: "string[]", default: [], doc: "names written in one run" },
      fail: { type: "boolean", default: false, doc: "throw after writing" },
    },
    siblings: (p) => p.names.filter((n) => n !== p.name).map((name) => ({ ...p, name })),
    async run(ctx) {
      runs.push({ name: ctx.params.name, siblings: (ctx.siblings ?? []).map((s) => s.params.name) });
      await Deno.writeTextFile(join(ctx.outDir, "name.txt"), ctx.params.name);
      for (const s of ctx.siblings ?? []) await Deno.writeTextFile(join(s.outDir, "name.txt"), s.params.name);
      if (ctx.params.fail) throw new Error("failed on purpose");
    },
  });
  const store = join(dir, "store");
  const run = (gen: Record<string, unknown>) =>
    runPipeline({ stages: [stage], config: { gen }, storeDir: store, root: dir });
  const read = (key: string) => Deno.readTextFileSync(join(store, "objects", key, "name.txt"));
  const objects = () => [...Deno.readDirSync(join(store, "objects"))].length;
  return { run, runs, read, objects, stage };
}

Deno.test("siblings: one run stores every sibling under its own key; runs with their params are cache hits", async () => {
  const { run, runs, read, objects } = setup();
  const names = ["a", "b", "c"];
  const first = await run({ name: "a", names });
  assertEquals(runs, [{ name: "a", siblings: ["b", "c"] }]);
  assertEquals(objects(), 3);
  assertEquals(read(first.outputs.gen), "a");
  for (const name of ["b", "c"]) {
    const res = await run({ name, names });
    assertEquals(res.records[0].status, "fresh");
    assertEquals(read(res.outputs.gen), name);
  }
  assertEquals(runs.length, 1);
  // a new name in the list is a new set of keys (outputs may depend on the list); stored siblings are skipped
  await run({ name: "d", names: ["a", "b", "c", "d"] });
  await run({ name: "a", names: ["a", "b", "c", "d"] });
  assertEquals(runs.slice(1), [{ name: "d", siblings: ["a", "b", "c"] }]);
});

Deno.test("siblings: a failed run commits neither its output nor its siblings'", async () => {
  const { run, objects } = setup();
  const e = await assertRejects(() => run({ name: "a", names: ["a", "b"], fail: true }));
  assertEquals((e as Error).message, "stage gen failed: failed on purpose");
  assertEquals(objects(), 0);
});

Deno.test("siblings: in a sweep's job graph, a stage run another one writes as a sibling waits for it", () => {
  const { stage } = setup();
  const points = expandSweep([stage], { gen: { names: ["a", "b", "c"] } }, ["gen.name=a,b,c"]);
  const nodes = branchGraph([stage], points);
  assertEquals(nodes.map((n) => n.point.label), ["gen.name=a", "gen.name=b", "gen.name=c"]);
  assertEquals(nodes.map((n) => n.deps), [[], [nodes[0].id], [nodes[0].id]]);
  // without the shared list nothing is written for another point: no extra dependency
  const plain = branchGraph([stage], expandSweep([stage], {}, ["gen.name=a,b"]));
  assertEquals(plain.map((n) => n.deps), [[], []]);
});
