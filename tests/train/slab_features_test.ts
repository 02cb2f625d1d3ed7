/**
 * Matryoshka's prefix decodes, tied weights and dead-latent resampling over a split slab plan
 * (a test-only binding limit forces slabs of unequal width, with and without batch chunks):
 * - matryoshka_batchtopk: loss (every level + AuxK), L0 and every gradient against float64, with level
 *   widths inside a slab and on a slab boundary;
 * - tied weights: the tied gradient against float64, W_enc = W_decᵀ exactly after Adam steps, and the
 *   parameters of the one-slab trainer;
 * - resampling, every architecture: the split trainer's snapshot after resample() (re-initialised rows,
 *   reset moments, clocks) and a later step equal the one-slab trainer's; the reset moments are exactly 0;
 * - a split run interrupted after a resampling and restored from its snapshot ends bit-identical.
 */
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { getDevice } from "../../kernels/runtime/device.ts";
import { type Architecture, GpuTrainer, type SaeParams, type TrainerConfig } from "../../stages/train/trainer.ts";
import { referenceStep } from "../../stages/train/reference.ts";
import { Rng } from "../../stages/train/rng.ts";
import { secondStepWithReference } from "./active.ts";
import { assertStepMatches, initWithBiases, relErr, trainerConfig } from "./trainer_setup.ts";

type Snapshot = Record<string, Float32Array | Uint32Array>;

/** Every parameter and Adam moment within relErr 1e-4 of the one-slab run's, the clocks exactly equal. */
function assertSnapshotsMatch(split: Snapshot, whole: Snapshot, what: string): void {
  for (const [key, a] of Object.entries(whole)) {
    if (key === "state") continue; // mixed u32 / f32 slots
    if (key === "since") assertEquals(Array.from(split.since), Array.from(a), `${what}: clocks`);
    else if (a.some((v) => v !== 0)) {
      const e = relErr(split[key], a);
      assert(e < 1e-4, `${what}: ${key} relative error ${e}`);
    } else assert(split[key].every((v) => v === 0), `${what}: ${key} should stay 0`);
  }
}

const MATRYOSHKA = [
  { name: "level widths inside slabs", D: 32, S: 98, B: 8, limit: 1024 * 4, widths: [12, 40], plan: [4, 1] },
  { name: "slabs and chunks", D: 16, S: 300, B: 24, limit: 1536 * 4, widths: [20, 150], plan: [4, 2] },
  // 56 is the third slab's first latent; d_in % 4 != 0: the buffer paths
  { name: "a level on a slab boundary", D: 18, S: 98, B: 8, limit: 576 * 4, widths: [10, 56], plan: [4, 1] },
];

for (const c of MATRYOSHKA) {
  Deno.test(`split matryoshka_batchtopk, ${c.name} (d_sae ${c.S}, levels ${c.widths}): matches float64`, async () => {
    const { D, S, B } = c;
    const rng = new Rng(D + S, 17);
    const init = initWithBiases(D, S, 1, rng);
    const x = new Float32Array(B * D).map(() => rng.normal());
    const x2 = new Float32Array(B * D).map(() => rng.normal());
    const cfg = trainerConfig("matryoshka_batchtopk", { d_in: D, d_sae: S, k: 5, batch: B }, {
      deadWindow: 1, // latents silent on the first batch are dead on the second: AuxK runs
      auxK: 8,
      batchTopkCap: 2,
      matryoshkaWidths: [...c.widths, S],
      bindingLimit: c.limit,
      keepGradients: true, // every slab's gradient stays readable (streamed: tests/train/streamed_adam_test.ts)
    });
    const { m, g, ref, plan } = await secondStepWithReference(cfg, init, x, x2, { sparsityCoef: 1, auxCoef: 0.5 });
    assertEquals([plan.slabs.length, plan.chunks.length], c.plan);
    assert(ref.loss > 2 * ref.mse, `inner levels add to the loss: ${ref.loss} vs mse ${ref.mse}`);
    assertStepMatches(m, g, ref, ["W_enc", "W_dec", "b_enc", "b_dec"]);
  });
}

Deno.test("split matryoshka_batchtopk: level gradient rows over one binding are refused with one line", async () => {
  const init = initWithBiases(16, 300, 1, new Rng(1, 1));
  const cfg = trainerConfig("matryoshka_batchtopk", { d_in: 16, d_sae: 300, k: 5, batch: 24 }, {
    auxK: 8,
    batchTopkCap: 2,
    matryoshkaWidths: [20, 90, 150, 300], // 2 + 3 blocks of 24 × 16 > 1536 f32
    bindingLimit: 1536 * 4,
  });
  const device = await getDevice();
  const err = await assertRejects(() => GpuTrainer.create(device, cfg, init));
  assertEquals(
    (err as Error).message,
    "train: matryoshka_batchtopk keeps 5 gradient blocks of batch_size × d_in (120 × 16 f32 = 0 MiB) in one binding of 0 MiB; lower batch_size or the number of matryoshka_widths",
  );
});

const SPLITS = [
  { name: "slabs", D: 32, S: 98, B: 8, limit: 1024 * 4, chunks: 1 },
  { name: "slabs and chunks", D: 16, S: 198, B: 25, limit: 1024 * 4, chunks: 2 },
];

/** A split trainer and the one-slab trainer of the same config; both destroyed after `body`. */
async function splitAndWhole(
  cfg: TrainerConfig,
  init: SaeParams,
  limit: number,
  body: (split: GpuTrainer, whole: GpuTrainer) => Promise<void>,
): Promise<void> {
  const device = await getDevice();
  const split = await GpuTrainer.create(device, { ...cfg, bindingLimit: limit }, init);
  const whole = await GpuTrainer.create(device, cfg, init);
  try {
    assert(split.plan.slabs.length > 1 && whole.plan.slabs.length === 1, "one split, one whole plan");
    await body(split, whole);
  } finally {
    split.destroy();
    whole.destroy();
  }
}

for (const arch of ["topk", "batchtopk", "standard", "jumprelu"] as Architecture[]) {
  for (const c of SPLITS) {
    Deno.test(`split tied weights, ${arch}, ${c.name}: gradient matches float64, W_enc = W_decᵀ, = one slab`, async () => {
      const { D, S, B } = c;
      const rng = new Rng(D + S, 73);
      const normalizeDecoder = arch === "topk" || arch === "batchtopk";
      const init = initWithBiases(D, S, normalizeDecoder ? 1 : 0.5, rng, 0.05);
      const x = new Float32Array(B * D).map(() => rng.normal());
      const cfg = trainerConfig(arch, { d_in: D, d_sae: S, k: 5, batch: B }, {
        auxK: 0,
        bandwidth: 0.5,
        batchTopkCap: 2,
        normalizeDecoder,
        tiedWeights: true,
      });
      await splitAndWhole(cfg, init, c.limit, async (split, whole) => {
        assertEquals(split.plan.chunks.length, c.chunks);
        const h = { lr: 0, t: 1, sparsityCoef: 0.3, auxCoef: 0 };
        for (const t of [split, whole]) t.step(x, h);
        const m = await split.metrics();
        const g = await split.gradients();
        const ref = referenceStep(init, x, { ...cfg, sparsityCoef: 0.3, auxCoef: 0 });
        assert(Math.abs(m.loss - ref.loss) <= 1e-4 * ref.loss, `loss ${m.loss} vs ${ref.loss}`);
        const e = relErr(g.W_dec!, ref.grads.W_dec);
        assert(e < 1e-4, `tied gradient relative error ${e}`);
        for (let s = 2; s <= 4; s++) {
          for (const t of [split, whole]) t.step(x, { ...h, lr: 1e-2, t: s });
        }
        const p = await split.params();
        for (let i = 0; i < S; i++) {
          for (let d = 0; d < D; d++) assertEquals(p.W_enc[d * S + i], p.W_dec[i * D + d], `W_enc[${d}, ${i}]`);
        }
        assert(relErr(p.W_dec, init.W_dec) > 1e-4, "the tied matrix trained");
        assertSnapshotsMatch(await split.snapshot(), await whole.snapshot(), "after 3 Adam steps");
      });
    });
  }
}

const RESAMPLED: { arch: Architecture; tied?: boolean }[] = [
  { arch: "topk" },
  { arch: "batchtopk" },
  { arch: "matryoshka_batchtopk" },
  { arch: "standard" },
  { arch: "jumprelu" },
  { arch: "gated" },
  { arch: "topk", tied: true },
];

/** A 4-slab, 2-chunk config whose every fifth latent never fires (dead, in every slab). */
function resampleSetup(arch: Architecture, tied = false) {
  const { D, S, B } = SPLITS[1];
  // matryoshka's 3 gradient blocks of batch × d_in (main, AuxK, one inner level) must fit the binding too
  const limit = arch === "matryoshka_batchtopk" ? 3 * B * D * 4 : SPLITS[1].limit;
  const rng = new Rng(D + S, 5);
  const normalizeDecoder = arch === "topk" || arch === "batchtopk" || arch === "matryoshka_batchtopk";
  const init = initWithBiases(D, S, normalizeDecoder ? 1 : 0.5, rng, 0.05);
  for (let i = 0; i < S; i += 5) init.b_enc[i] = -1e3;
  for (let i = 0; i < S; i++) init.b_mag[i] = 0.2 * rng.normal();
  for (let i = 0; i < S; i++) {
    for (let d = 0; d < D; d++) {
      // tied: W_enc = W_decᵀ; else encoder norms that fall with the latent index (each slab's alive mean differs)
      init.W_enc[d * S + i] = tied ? init.W_dec[i * D + d] : init.W_enc[d * S + i] * (2.5 - 2 * i / S);
    }
  }
  // k 12 and 3 steps: few latents are silent by chance, so the picks (the first dead ones) reach several slabs
  const cfg = trainerConfig(arch, { d_in: D, d_sae: S, k: 12, batch: B }, {
    deadWindow: 3 * B,
    normalizeDecoder,
    auxK: 4,
    batchTopkCap: 2,
    bandwidth: 0.5,
    matryoshkaWidths: [100, S],
    tiedWeights: tied,
    resampling: true,
  });
  const batches = Array.from({ length: 6 }, () => new Float32Array(B * D).map(() => rng.normal()));
  return { D, S, B, limit, init, cfg, batches };
}

for (const { arch, tied } of RESAMPLED) {
  const what = `${arch}${tied ? ", tied" : ""}`;
  Deno.test(`split resampling, ${what}: rows, moments and clocks equal the one-slab trainer's`, async () => {
    const { D, S, limit, init, cfg, batches } = resampleSetup(arch, tied);
    await splitAndWhole(cfg, init, limit, async (split, whole) => {
      const h = { lr: 1e-3, t: 1, sparsityCoef: 0.1, auxCoef: 0.1 };
      for (const t of [split, whole]) for (let s = 1; s <= 3; s++) t.step(batches[s - 1], { ...h, t: s });
      const before = await split.snapshot();
      const dead = [...before.since.keys()].filter((i) => before.since[i] >= cfg.deadWindow);
      const n = await split.resample(42, 3);
      assertEquals(n, await whole.resample(42, 3));
      assertEquals(n, Math.min(dead.length, cfg.batch));
      const picked = dead.slice(0, n);
      const slabsHit = new Set(picked.map((i) => split.plan.slabs.findIndex((s) => i < s.start + s.size)));
      assert(slabsHit.size >= 2, `picks in ${slabsHit.size} slab(s)`);
      const after = await split.snapshot();
      assertSnapshotsMatch(after, await whole.snapshot(), "after resample()");
      const moved = picked.filter((i) => after.W_dec[i * D] !== before.W_dec[i * D]).length;
      assertEquals(moved, n, "every picked decoder row re-initialised");
      for (const i of picked) {
        assertEquals(after.since[i], 0, `latent ${i}: clock`);
        assertEquals(after.m_b_enc[i], 0, `latent ${i}: m_b_enc`);
        for (let d = 0; d < D; d++) {
          const moments = [after.m_W_dec[i * D + d], after.v_W_dec[i * D + d], after.m_W_enc[d * S + i]];
          assertEquals([...moments, after.v_W_enc[d * S + i]], [0, 0, 0, 0], `latent ${i}: moments`);
          if (tied) assertEquals(after.W_enc[d * S + i], after.W_dec[i * D + d], `latent ${i}: tied`);
        }
      }
      // float64: a new encoder column is 0.2 × the alive latents' mean encoder norm (over every slab) × its row's direction
      const col = (W: ArrayLike<number>, i: number) => Float64Array.from({ length: D }, (_, d) => W[d * S + i]);
      const norm = (v: Float64Array) => Math.hypot(...v);
      const alive = [...Array(S).keys()].filter((i) => before.since[i] < cfg.deadWindow);
      const encNorm = alive.reduce((a, i) => a + norm(col(before.W_enc, i)), 0) / alive.length;
      for (const i of tied ? [] : picked) {
        const wd = Float64Array.from({ length: D }, (_, d) => after.W_dec[i * D + d]);
        const we = col(after.W_enc, i), nd = norm(wd);
        for (let d = 0; d < D; d++) {
          assert(Math.abs(we[d] - 0.2 * encNorm * wd[d] / nd) < 1e-5, `latent ${i}: W_enc[${d}] ${we[d]}`);
        }
      }
      const unpicked = [...Array(S).keys()].find((i) => !picked.includes(i))!;
      assertEquals(after.m_W_dec[unpicked * D], before.m_W_dec[unpicked * D], "other moments untouched");
      for (const t of [split, whole]) t.step(batches[3], { ...h, t: 4 });
      assertSnapshotsMatch(await split.snapshot(), await whole.snapshot(), "a step after resampling");
    });
  });
}

Deno.test("split matryoshka with resampling: a run restored from its snapshot ends bit-identical", async () => {
  const device = await getDevice();
  const { limit, init, cfg, batches } = resampleSetup("matryoshka_batchtopk");
  const split = { ...cfg, bindingLimit: limit };
  const h = { lr: 1e-3, t: 1, sparsityCoef: 0.1, auxCoef: 0.1 };
  const run = async (t: GpuTrainer, from: number, to: number) => {
    for (let s = from; s <= to; s++) {
      t.step(batches[s - 1], { ...h, t: s });
      if (s % 3 === 0) await t.resample(7, s);
    }
  };
  const a = await GpuTrainer.create(device, split, init);
  assert(
    a.plan.slabs.length > 1 && a.plan.chunks.length > 1,
    `${a.plan.slabs.length} slabs, ${a.plan.chunks.length} chunks`,
  );
  await run(a, 1, 6);
  const want = await a.snapshot();
  a.destroy();
  const b = await GpuTrainer.create(device, split, init);
  await run(b, 1, 4); // interrupted after the resampling at step 3
  const snap = await b.snapshot();
  b.destroy();
  const c = await GpuTrainer.create(device, split, init);
  await c.restore(snap);
  await run(c, 5, 6);
  const got = await c.snapshot();
  c.destroy();
  assert(relErr(want.W_dec, snap.W_dec) > 0, "the last steps changed W_dec");
  for (const [key, v] of Object.entries(want)) assertEquals(Array.from(got[key]), Array.from(v), key);
});
