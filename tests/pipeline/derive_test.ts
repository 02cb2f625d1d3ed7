/**
 * Derived params (Stage.derive): a stage may take a value from another (resolved) section; it enters the
 * stage's params and key like its own (a change reruns it, the same value is a cache hit), `validate` sees it,
 * and a stage whose derive adds nothing keeps the key it had without one.
 */
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { join } from "node:path";
import { defineStage } from "../../pipeline/stage.ts";
import { runPipeline } from "../../pipeline/run.ts";
import { ParamError } from "../../pipeline/params.ts";

function setup(derive: boolean) {
  const dir = Deno.makeTempDirSync({ prefix: "derive_test_" });
  const seen: Record<string, unknown>[] = [];
  const up = defineStage<{ n: number; extra?: string }>({
    name: "up",
    upstream: [],
    description: "writes n, and `extra` taken from the down section",
    module: import.meta.url,
    params: { n: { type: "int", default: 1, doc: "a number" } },
    ...(derive
      ? {
        derive: (p, config) => typeof config.down.extra === "string" ? { ...p, extra: config.down.extra } : p,
        validate: (p) => {
          if (p.extra === "bad") throw new ParamError(`config key "down.extra": bad`);
        },
      }
      : {}),
    async run(ctx) {
      seen.push(ctx.params);
      await Deno.writeTextFile(join(ctx.outDir, "out.txt"), JSON.stringify(ctx.params));
    },
  });
  const down = defineStage<{ extra: string | null }>({
    name: "down",
    upstream: ["up"],
    description: "reads up",
    module: import.meta.url,
    params: { extra: { type: "string", default: null, nullable: true, doc: "a value up also takes" } },
    async run(ctx) {
      await Deno.writeTextFile(join(ctx.outDir, "in.txt"), await Deno.readTextFile(join(ctx.inputs.up, "out.txt")));
    },
  });
  const store = join(dir, "store");
  const run = (downCfg: Record<string, unknown>) =>
    runPipeline({ stages: [up, down], config: { up: { n: 2 }, down: downCfg }, storeDir: store, root: dir });
  return { run, seen };
}

Deno.test("derive: another section's value enters the stage's params and key; validate sees it", async () => {
  const { run, seen } = setup(true);
  const plain = await run({});
  const a = await run({ extra: "x" });
  assertEquals(seen, [{ n: 2 }, { n: 2, extra: "x" }]);
  assert(a.outputs.up !== plain.outputs.up, "the derived value changes the key");
  const again = await run({ extra: "x" });
  assertEquals(again.records.map((r) => r.status), ["fresh", "fresh"]);
  assertEquals((await run({})).records[0].status, "fresh"); // the plain key is still the plain one
  const e = await assertRejects(() => run({ extra: "bad" }));
  assert(e instanceof ParamError && e.message.includes("down.extra"), e.message);
  // without a derive hook the same params give the same key as the derive that added nothing
  const { run: run2 } = setup(false);
  assertEquals((await run2({})).outputs.up, plain.outputs.up);
});
