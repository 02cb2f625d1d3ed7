import { assert, assertEquals } from "../assert.ts";
import { join } from "node:path";
import { loadConfig } from "../../pipeline/cli.ts";
import { resolveConfig } from "../../pipeline/run.ts";
import { defaultStages } from "../../stages/graph.ts";
import { expandSweep } from "../../pipeline/sweep.ts";

const root = new URL("../..", import.meta.url).pathname;
const examples = [...Deno.readDirSync(join(root, "data/examples"))].map((e) => e.name).filter((n) =>
  n.endsWith(".json")
);

Deno.test("every example config validates against the stage schemas", async () => {
  assert(examples.length >= 7, examples.join(", "));
  for (const name of examples) {
    const cfg = await loadConfig(join(root, "data/examples", name));
    const resolved = resolveConfig(defaultStages, cfg);
    assertEquals(Object.keys(resolved).length, 6, name);
  }
  const hook = (await loadConfig(join(root, "data/examples/mlp_post_block1.json"))) as { extract: { hook: string } };
  assertEquals(hook.extract.hook, "blocks.1.mlp.hook_post");
});

Deno.test("architectures.json: its topk point is the default run (the README's headline numbers) and k stays 32", async () => {
  const base = resolveConfig(defaultStages, await loadConfig(join(root, "data/pipeline.json")));
  const points = expandSweep(defaultStages, await loadConfig(join(root, "data/examples/architectures.json")));
  const resolved = points.map((p) => ({ label: p.label, cfg: resolveConfig(defaultStages, p.config) }));
  assertEquals(resolved.find((p) => p.label === "train.architecture=topk")?.cfg, base);
  for (const p of resolved) {
    assertEquals((p.cfg.train as { k: number }).k, 32, p.label);
    // every point is "the default run with architecture X" and its sparsity settings (which topk ignores)
    const sparsity = ["l1_coefficient", "l0_coefficient", "normalize_decoder", "jumprelu_init_threshold"] as const;
    const train: Record<string, unknown> = { ...p.cfg.train, architecture: "topk" };
    for (const key of sparsity) train[key] = base.train[key];
    assertEquals({ ...p.cfg, train }, base, p.label);
  }
});

Deno.test("the own-ONNX-model example runs through extract on the shipped tiny model directory", async () => {
  const store = await Deno.makeTempDir({ prefix: "example_model_" });
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(root, "stages/cli.ts"),
      "run",
      "--quiet",
      "--until",
      "extract",
      "--config",
      join(root, "data/examples/own_onnx_model.json"),
      "--store",
      store,
      "--set",
      "pretokenize.max_tokens=4096",
    ],
    cwd: root,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
  const lock = JSON.parse(await Deno.readTextFile(join(store, "pipeline.lock.json")));
  const meta = JSON.parse(await Deno.readTextFile(join(store, lock.stages.extract.path, "meta.json")));
  assertEquals([meta.hook_name, meta.d_in], ["blocks.1.hook_resid_post", 16]);
  await Deno.remove(store, { recursive: true });
});
