/**
 * A store as the engine leaves it after two runs: objects/<key>/ for model, pretokenize, extract, train
 * and evaluate (the evaluate outputs really computed by the stage on the evaluate fixture), runs.ndjson
 * with both runs and pipeline.lock.json for the latest. Run "run-1" had an older train object whose
 * train_log has 3 steps; the latest run "run-2" has 5.
 */
import { join } from "node:path";
import { evaluateStage } from "../../stages/evaluate/mod.ts";
import { writeParquet } from "../../stages/io/parquet.ts";
import { LOG_SCHEMA } from "../../stages/train/train_loop.ts";
import { evalContext, type EvalFixture, makeEvalFixture } from "../evaluate/stage_fixture.ts";

const TRAIN_LOG = LOG_SCHEMA;

export async function makeStore(): Promise<{ fx: EvalFixture; store: string }> {
  const fx = await makeEvalFixture({ seed: 5 });
  const ctx = await evalContext(fx, {
    top_n: 3,
    quantile_examples: 1,
    window: 2,
    downstream_sequences: 2,
    backend: "cpu",
  });
  await evaluateStage.run(ctx);
  const store = join(fx.root, "store");
  await Deno.mkdir(join(store, "objects"), { recursive: true });
  const keys: Record<string, string> = {};
  for (const [stage, dir] of Object.entries({ ...fx.inputs, evaluate: ctx.outDir })) {
    keys[stage] = `k-${stage}`;
    await Deno.rename(dir, join(store, "objects", keys[stage]));
  }
  const log = (steps: number) =>
    Array.from(
      { length: steps },
      (_, s) => ({
        step: s * 10,
        tokens: s * 1000,
        lr: 1e-3,
        loss: 2 / (s + 1),
        mse: 1 / (s + 1),
        explained_variance: 0.1 * s,
        l0: 4,
        l1: 3,
        dead_latents: 5 - s,
        aux_loss: 0,
      }),
    );
  await writeParquet(join(store, "objects", keys.train, "train_log.parquet"), TRAIN_LOG, log(5));
  await Deno.mkdir(join(store, "objects", "k-train-old"));
  await writeParquet(join(store, "objects", "k-train-old", "train_log.parquet"), TRAIN_LOG, log(3));
  const rec = (run_id: string, stage: string, key: string, status: string, reason: string) =>
    JSON.stringify({
      run_id,
      stage,
      key,
      status,
      reason,
      params: { seed: 1 },
      inputs: {},
      output_hash: `h-${key}`,
      started: "2025-01-01T00:00:00.000Z",
      duration_s: 1.5,
      error: null,
    });
  const stages = ["model", "pretokenize", "extract", "train", "evaluate"];
  const lines = [
    ...stages.map((s) => rec("run-1", s, s === "train" ? "k-train-old" : keys[s], "ran", "new")),
    ...stages.map((s) =>
      rec(
        "run-2",
        s,
        keys[s],
        s === "train" || s === "evaluate" ? "ran" : "fresh",
        s === "train" ? "param train.k changed" : "",
      )
    ),
  ];
  await Deno.writeTextFile(join(store, "runs.ndjson"), lines.join("\n") + "\n");
  await Deno.writeTextFile(
    join(store, "pipeline.lock.json"),
    JSON.stringify({
      run_id: "run-2",
      created: "2025-01-01T00:00:00.000Z",
      stages: Object.fromEntries(
        stages.map((
          s,
        ) => [s, {
          key: keys[s],
          output_hash: `h-${keys[s]}`,
          path: join("objects", keys[s]),
          params: {},
          upstream: {},
          code: {},
          runtime: "2.9.6",
        }]),
      ),
    }),
  );
  return { fx, store };
}
