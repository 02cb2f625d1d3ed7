/** Interrupt and resume gives bit-identical weights; clear errors on bad input. */
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { writeSynthetic } from "./synthetic.ts";
import { TrainInterrupted, trainSae } from "../../stages/train/train_loop.ts";
import { resolveParams } from "../../pipeline/params.ts";
import { type TrainParams, trainParams } from "../../stages/train/params.ts";
import { readParquet } from "../../stages/io/parquet.ts";

const params = (over: Record<string, unknown> = {}) =>
  resolveParams("train", trainParams, {
    architecture: "topk",
    d_sae: 320,
    k: 4,
    batch_size: 128,
    lr: 0.005,
    training_tokens: 128 * 30,
    log_every: 5,
    checkpoint_every: 10,
    validation_tokens: 256,
    dead_feature_window: 256,
    aux_k: 8,
    resample_every: 4, // resampling draws are seeded by step: a resumed run resamples identically
    shuffle_buffer_tokens: 700,
    ...over,
  }) as unknown as TrainParams;

Deno.test("train: interrupted + resumed run equals the uninterrupted run, byte for byte", async () => {
  const syn = await writeSynthetic({
    dIn: 32,
    nDirs: 64,
    nTrain: 2000,
    nHeld: 512,
    l0: 3,
    noise: 0.01,
    seed: 2,
    shardRows: 600,
  });
  const dirs = await Promise.all([0, 1, 2, 3].map(() => Deno.makeTempDir()));
  const [outA, scratchA, outB, scratchB] = dirs;
  try {
    await trainSae({ params: params(), extractDir: syn.dir, outDir: outA, scratchDir: scratchA });
    await assertRejects(
      () => trainSae({ params: params(), extractDir: syn.dir, outDir: outB, scratchDir: scratchB, stopAfterSteps: 17 }),
      TrainInterrupted,
    );
    const logs: string[] = [];
    await trainSae({
      params: params(),
      extractDir: syn.dir,
      outDir: outB,
      scratchDir: scratchB,
      log: (m) => logs.push(m),
    });
    assert(logs.some((m) => m.includes("resuming from the checkpoint at step 17")), logs.join("\n"));
    const a = await Deno.readFile(`${outA}/sae_weights.safetensors`);
    const b = await Deno.readFile(`${outB}/sae_weights.safetensors`);
    assertEquals(a.length, b.length);
    assert(a.every((v, j) => v === b[j]), "weights differ after resume");
    const log = await readParquet(`${outB}/train_log.parquet`);
    assertEquals(log.map((r) => r.step), [5, 10, 15, 20, 25, 30]);
    const logA = await readParquet(`${outA}/train_log.parquet`);
    // the count pending at the interrupt (step 17, after the resampling at 16) survives the resume
    assertEquals(log.map((r) => r.resampled_latents), logA.map((r) => r.resampled_latents));
    assert(log.some((r) => Number(r.resampled_latents) > 0), "some latents resampled");
    assert(log.every((r) => Number.isFinite(r.loss as number) && (r.l0 as number) > 0), "log rows");
    const cfg = JSON.parse(await Deno.readTextFile(`${outA}/cfg.json`));
    assertEquals([cfg.architecture, cfg.d_in, cfg.d_sae, cfg.k, cfg.normalize_activations], [
      "topk",
      32,
      320,
      4,
      "none",
    ]);
  } finally {
    for (const d of [...dirs, syn.dir]) await Deno.remove(d, { recursive: true });
  }
});

Deno.test("train: clear errors for k > d_sae and too few tokens", async () => {
  const syn = await writeSynthetic({ dIn: 16, nDirs: 8, nTrain: 300, nHeld: 0, l0: 2, noise: 0.01, seed: 3 });
  const io = { extractDir: syn.dir, outDir: syn.dir, scratchDir: syn.dir };
  try {
    const e1 = await assertRejects(() => trainSae({ ...io, params: params({ d_sae: 8, k: 9 }) }));
    assert(e1.message.includes("k = 9 exceeds d_sae = 8"), e1.message);
    const e2 = await assertRejects(() => trainSae({ ...io, params: params({ training_tokens: 100 }) }));
    assert(e2.message.includes("less than one batch"), e2.message);
  } finally {
    await Deno.remove(syn.dir, { recursive: true });
  }
});
