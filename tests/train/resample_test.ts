/**
 * Dead-latent resampling: the weighted draw, the trainer's resample() for every architecture (dead
 * latents re-initialised toward rows of the last batch, their Adam state reset, the rest untouched),
 * and the train stage logging the count.
 */
import { assert, assertEquals } from "../assert.ts";
import { getDevice } from "../../kernels/runtime/device.ts";
import { type Architecture, GpuTrainer } from "../../stages/train/trainer.ts";
import { initParams } from "../../stages/train/init.ts";
import { weightedSample } from "../../stages/train/resample.ts";
import { Rng } from "../../stages/train/rng.ts";
import { trainerConfig } from "./trainer_setup.ts";
import { writeSynthetic } from "./synthetic.ts";
import { join } from "node:path";
import { readParquet } from "../../stages/io/parquet.ts";
import { trainSae } from "../../stages/train/train_loop.ts";
import { resolveParams } from "../../pipeline/params.ts";
import { type TrainParams, trainParams } from "../../stages/train/params.ts";

Deno.test("weightedSample draws without replacement, ∝ weight, zero weights last", () => {
  const rng = new Rng(1, 2);
  const hits = [0, 0, 0, 0];
  const n = 4000;
  for (let r = 0; r < n; r++) hits[weightedSample([0, 1, 0, 3], 1, rng)[0]]++;
  assertEquals(hits[0] + hits[2], 0);
  assert(Math.abs(hits[3] / n - 0.75) < 0.03, `P(3) = ${hits[3] / n}, want 3/4`);
  // without replacement: both positive ones first, then the zero-weight ones in index order
  assertEquals(weightedSample([0, 1, 0, 3], 4, rng).slice(2), [0, 2]);
  assertEquals(new Set(weightedSample([5, 1, 2, 3, 4], 5, rng)).size, 5);
});

const norm = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0));

for (const arch of ["topk", "batchtopk", "standard", "jumprelu", "gated"] as Architecture[]) {
  Deno.test(`${arch}: resample() re-initialises the dead latents toward batch rows and resets their Adam state`, async () => {
    const device = await getDevice();
    const D = 24, S = 200, B = 16;
    const rng = new Rng(7, 3);
    const init = initParams({ d_in: D, d_sae: S, seed: 5, decoderNorm: 1, initThreshold: 0.1 }, new Float32Array(D));
    for (let j = 0; j < D; j++) init.b_dec[j] = 0.1 * rng.normal();
    for (let i = 0; i < 40; i++) init.b_enc[i] = -1e3; // never fire
    const normalizeDecoder = arch === "topk" || arch === "batchtopk";
    const cfg = trainerConfig(arch, { d_in: D, d_sae: S, k: 4, batch: B }, {
      deadWindow: 1,
      normalizeDecoder,
      auxK: 4,
    });
    const t = await GpuTrainer.create(device, cfg, init);
    const x = new Float32Array(B * D).map(() => rng.normal());
    const h = { lr: 1e-3, t: 1, sparsityCoef: 0.1, auxCoef: 0.1 };
    t.step(x, h);
    t.step(x, { ...h, t: 2 }); // Adam moments non-zero everywhere
    const before = await t.snapshot();
    const dead = [...(before.since as Uint32Array).keys()].filter((i) => before.since[i] >= 1);
    assert(dead.length >= 40 && dead.length < S, `${dead.length} dead`);
    const n = await t.resample(42, 2);
    assertEquals(n, Math.min(dead.length, B));
    const after = await t.snapshot();
    t.destroy();
    const picked = new Set(dead.slice(0, n));
    // the alive latents' mean encoder norm (the 0.2 × scale of a new encoder column)
    const col = (W: ArrayLike<number>, i: number) => Float64Array.from({ length: D }, (_, d) => W[d * S + i]);
    const row = (W: ArrayLike<number>, i: number) => Float64Array.from({ length: D }, (_, d) => W[i * D + d]);
    const alive = [...Array(S).keys()].filter((i) => before.since[i] < 1);
    const encNorm = alive.reduce((s, i) => s + norm(col(before.W_enc, i)), 0) / alive.length;
    const dirs = Array.from({ length: B }, (_, r) => {
      const v = Float64Array.from({ length: D }, (_, d) => x[r * D + d] - before.b_dec[d]);
      const l = norm(v);
      return v.map((e) => e / l);
    });
    for (let i = 0; i < S; i++) {
      const wd = row(after.W_dec, i), we = col(after.W_enc, i);
      if (!picked.has(i)) {
        assertEquals(Array.from(wd), Array.from(row(before.W_dec, i)), `latent ${i} W_dec untouched`);
        assertEquals(after.m_b_enc[i], before.m_b_enc[i]);
        continue;
      }
      const nd = norm(wd);
      if (normalizeDecoder) assert(Math.abs(nd - 1) < 1e-5, `latent ${i}: decoder norm ${nd}`);
      const cos = Math.max(...dirs.map((u) => u.reduce((s, v, d) => s + v * wd[d], 0) / nd));
      assert(cos > 1 - 1e-5, `latent ${i}: decoder row not a batch row's direction (cos ${cos})`);
      for (let d = 0; d < D; d++) assert(Math.abs(we[d] - 0.2 * encNorm * wd[d] / nd) < 1e-5, `latent ${i} W_enc`);
      for (const name of ["b_enc", "m_b_enc", "v_b_enc", "r_mag", "b_mag", "m_log_threshold"]) {
        assertEquals(after[name][i], 0, `latent ${i}: ${name}`);
      }
      assertEquals(norm(row(after.m_W_dec, i)) + norm(col(after.v_W_enc, i)), 0, `latent ${i}: moments`);
      assertEquals(after.since[i], 0);
    }
  });
}

Deno.test("train stage: resample_every revives dead latents and logs how many it re-initialised", async () => {
  const syn = await writeSynthetic({ dIn: 64, nDirs: 256, nTrain: 65536, nHeld: 1024, l0: 4, noise: 0.01, seed: 1 });
  try {
    const run = async (resample_every: number) => {
      const p = resolveParams("train", trainParams, {
        architecture: "topk",
        d_sae: 256,
        k: 4,
        aux_k: 0, // no AuxK: resampling is the only rescue of a dead latent
        batch_size: 256,
        lr: 0.01,
        lr_decay: "constant",
        training_tokens: 65536,
        log_every: 16,
        checkpoint_every: 0,
        validation_tokens: 0,
        dead_feature_window: 5000,
        seed: 3,
        resample_every,
      }) as unknown as TrainParams;
      const out = await Deno.makeTempDir();
      const scratch = await Deno.makeTempDir();
      try {
        const summary = await trainSae({ params: p, extractDir: syn.dir, outDir: out, scratchDir: scratch });
        const log = await readParquet(join(out, "train_log.parquet"));
        return { summary, log };
      } finally {
        await Deno.remove(out, { recursive: true });
        await Deno.remove(scratch, { recursive: true });
      }
    };
    const off = await run(0);
    const on = await run(16);
    const counts = on.log.map((r) => Number(r.resampled_latents));
    assert(off.log.every((r) => Number(r.resampled_latents) === 0), "no resampling when off");
    assertEquals(counts.reduce((a, b) => a + b, 0), on.summary.resampled_latents);
    assert(counts.filter((c) => c > 0).length >= 3, `resampled per log row: ${counts}`);
    const deadOff = (off.summary.final as Record<string, number>).dead_latents;
    const deadOn = (on.summary.final as Record<string, number>).dead_latents;
    assert(deadOn < deadOff, `dead latents with resampling ${deadOn}, without ${deadOff}`);
  } finally {
    await Deno.remove(syn.dir, { recursive: true });
  }
});

Deno.test("tied weights: after resampling the encoder is still the decoder's transpose", async () => {
  const device = await getDevice();
  const D = 16, S = 64, B = 8;
  const rng = new Rng(9, 3);
  const init = initParams({ d_in: D, d_sae: S, seed: 5, decoderNorm: 1, initThreshold: 0.1 }, new Float32Array(D));
  for (let i = 0; i < 20; i++) init.b_enc[i] = -1e3;
  const cfg = trainerConfig("topk", { d_in: D, d_sae: S, k: 2, batch: B }, { deadWindow: 1, tiedWeights: true });
  const t = await GpuTrainer.create(device, cfg, init);
  t.step(new Float32Array(B * D).map(() => rng.normal()), { lr: 1e-3, t: 1, sparsityCoef: 0, auxCoef: 0 });
  assert(await t.resample(1, 1) > 0, "resampled");
  const p = await t.params();
  t.destroy();
  for (let i = 0; i < S; i++) for (let d = 0; d < D; d++) assertEquals(p.W_enc[d * S + i], p.W_dec[i * D + d]);
});
