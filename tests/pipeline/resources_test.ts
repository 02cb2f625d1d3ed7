/** Per-stage SLURM resources: one-line errors naming the key, a stage's entry over `default`; the sweep example. */
import { assertEquals, assertThrows } from "../assert.ts";
import { readResources, sbatchOptions } from "../../pipeline/resources.ts";
import { ParamError } from "../../pipeline/params.ts";
import { loadConfig } from "../../pipeline/cli.ts";
import { expandSweep } from "../../pipeline/sweep.ts";
import { defaultStages } from "../../stages/graph.ts";

const names = ["extract", "train"];

Deno.test("resources: a stage's entry overrides default key by key; extra options pass through", () => {
  const r = readResources({
    resources: {
      default: { partition: "cpu", time: "1:00:00", cpus: 4, mem: "8G" },
      train: { partition: "gpu", gres: "gpu:1", extra: ["--constraint=a100"] },
    },
  }, names);
  assertEquals(sbatchOptions(r, "train"), [
    "--partition=gpu",
    "--time=1:00:00",
    "--cpus-per-task=4",
    "--mem=8G",
    "--gres=gpu:1",
    "--constraint=a100",
  ]);
  assertEquals(sbatchOptions(r, "extract"), ["--partition=cpu", "--time=1:00:00", "--cpus-per-task=4", "--mem=8G"]);
  assertEquals(sbatchOptions(readResources({}, names), "train"), []);
});

Deno.test("resources: bad entries fail with one line naming the key", () => {
  const bad = (resources: unknown) => assertThrows(() => readResources({ resources }, names), ParamError).message;
  assertEquals(bad({ trian: {} }), `config key "resources.trian": not a stage (stages: extract, train, or default)`);
  assertEquals(
    bad({ train: { gpus: 1 } }),
    `unknown config key "resources.train.gpus" (keys: partition, time, cpus, mem, gres, extra)`,
  );
  assertEquals(bad({ train: { cpus: 1.5 } }), `config key "resources.train.cpus": expected a positive integer`);
  assertEquals(bad({ default: { mem: 8 } }), `config key "resources.default.mem": expected a string`);
});

Deno.test("the sweep example expands to 7 points and its resources are valid", async () => {
  const cfg = await loadConfig(new URL("../../data/examples/sweep.json", import.meta.url).pathname);
  const points = expandSweep(defaultStages, cfg);
  assertEquals(points.length, 7);
  assertEquals(points[0].label, "train.k=16,train.expansion_factor=4");
  assertEquals(points[6].label, "train.architecture=batchtopk,train.k=32");
  const r = readResources(cfg, defaultStages.map((s) => s.name));
  assertEquals(sbatchOptions(r, "train"), ["--time=1:00:00", "--cpus-per-task=2", "--mem=16G", "--gres=gpu:1"]);
});
