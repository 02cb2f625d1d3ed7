/**
 * The split step (stages/train/slab_plan.ts) against the float64 reference: a test-only binding limit
 * forces several latent slabs (ragged last slab, buffer TopK), slabs and batch chunks together
 * (texture TopK), batch chunks alone, and slabs with d_in % 4 != 0 (the sparse kernels' buffer paths). Inputs have exact ties across slabs (duplicated encoder
 * columns, odd k so the boundary splits a tied pair) and rows with fewer than k positive
 * pre-activations; loss, every gradient and the selected indices (main and AuxK) must match.
 */
import { assert, assertEquals } from "../assert.ts";
import { getDevice } from "../../kernels/runtime/device.ts";
import { INVALID } from "../../kernels/runtime/kernel.ts";
import { type Architecture, GpuTrainer } from "../../stages/train/trainer.ts";
import { initParams } from "../../stages/train/init.ts";
import { referenceForward, referenceStep } from "../../stages/train/reference.ts";
import { topkIndices } from "../../stages/train/sae_cpu.ts";
import { Rng } from "../../stages/train/rng.ts";
import { activeLatents } from "./active.ts";
import { relErr, trainerConfig } from "./trainer_setup.ts";

const CASES = [
  { name: "slabs, ragged last slab", D: 32, S: 98, B: 8, limit: 1024 * 4, slabs: 4, chunks: 1 },
  { name: "slabs and batch chunks", D: 16, S: 200, B: 24, limit: 768 * 4, slabs: 5, chunks: 2 },
  { name: "batch chunks", D: 16, S: 64, B: 40, limit: 1280 * 4, slabs: 1, chunks: 2 },
  // d_in % 4 != 0: the sparse kernels' buffer paths
  { name: "slabs, buffer paths", D: 18, S: 98, B: 8, limit: 576 * 4, slabs: 4, chunks: 1 },
];

for (const arch of ["topk", "batchtopk"] as Architecture[]) {
  for (const c of CASES) {
    Deno.test(`split ${arch} ${c.name} (d_in ${c.D}, d_sae ${c.S}, batch ${c.B}): matches float64`, async () => {
      const device = await getDevice();
      const { D, S, B } = c;
      const k = 5;
      const rng = new Rng(D + S, 7);
      const init = initParams({ d_in: D, d_sae: S, seed: 4, decoderNorm: 1, initThreshold: 0.3 }, new Float32Array(D));
      for (let j = 0; j < D; j++) init.b_dec[j] = 0.1 * rng.normal();
      const half = Math.floor(S / 2);
      for (let i = 0; i < S; i++) init.b_enc[i] = i < half ? -0.6 + 0.1 * rng.normal() : init.b_enc[i - half];
      // Latent half + i copies latent i (another slab): equal pre-activations, ties to the lower index.
      for (let d = 0; d < D; d++) {
        for (let i = half; i < 2 * half; i++) init.W_enc[d * S + i] = init.W_enc[d * S + i - half];
      }
      // Every fourth row is small: fewer than k positive pre-activations there.
      const batch = () =>
        new Float32Array(B * D).map((_, j) => rng.normal() * (Math.floor(j / D) % 4 === 0 ? 0.05 : 1));
      const x = batch();
      const cfg = trainerConfig(arch, { d_in: D, d_sae: S, k, batch: B }, {
        deadWindow: 1, // latents silent on the first batch are dead in the second: AuxK runs
        auxK: 8,
        batchTopkCap: 2,
        bindingLimit: c.limit,
        keepGradients: true, // every slab's gradient stays readable (streamed: tests/train/streamed_adam_test.ts)
      });
      const t = await GpuTrainer.create(device, cfg, init);
      assertEquals([t.plan.slabs.length, t.plan.chunks.length], [c.slabs, c.chunks]);
      const h = { lr: 0, t: 1, sparsityCoef: 0, auxCoef: 0.5 };
      t.step(x, h);
      const x2 = batch();
      t.step(x2, h);
      const m = await t.metrics();
      const g = await t.gradients();
      const e = await t.entries();
      t.destroy();
      const dead = activeLatents(init, x, cfg).map((a) => !a);
      assert(dead.some((d) => d) && dead.some((d) => !d), "both live and dead latents");
      const ref = referenceStep(init, x2, { ...cfg, dead, sparsityCoef: 0, auxCoef: 0.5 });
      assert(Math.abs(m.loss - ref.loss) <= 1e-4 * ref.loss, `loss ${m.loss} vs ${ref.loss}`);
      assert(Math.abs(m.l0 - ref.l0) < 1e-3, `l0 ${m.l0} vs ${ref.l0}`);
      for (const n of ["W_enc", "W_dec", "b_enc", "b_dec"] as const) {
        const err = relErr(g[n]!, ref.grads[n]);
        assert(err < 1e-4, `${n} gradient relative error ${err}`);
      }
      // Selected indices: main entries = the reference's active latents per row; AuxK = the top
      // min(aux_k, n_dead) dead latents with positive pre-activation.
      const { pre, z } = referenceForward(init, x2, cfg);
      const cap = t.cap;
      const nDead = dead.filter((d) => d).length;
      let fewer = 0;
      for (let r = 0; r < B; r++) {
        const got = [...e.idx.subarray(r * cap, (r + 1) * cap)].filter((i) => i !== INVALID);
        const want = [...Array(S).keys()].filter((i) => z[r * S + i] > 0);
        assertEquals(got.sort((a, b) => a - b), want, `row ${r} main selection`);
        if (want.length < k) fewer++;
        const masked = Array.from(pre.subarray(r * S, (r + 1) * S), (v, i) => (dead[i] ? v : -Infinity));
        const auxWant = topkIndices(masked, Math.min(8, nDead)).filter((i) => masked[i] > 0).sort((a, b) => a - b);
        const auxGot = [...e.idx.subarray(B * cap + r * 8, B * cap + r * 8 + Math.min(8, nDead))]
          .filter((i) => i !== INVALID).sort((a, b) => a - b);
        assertEquals(auxGot, auxWant, `row ${r} AuxK selection`);
      }
      assert(fewer > 0, "some row has fewer than k positive pre-activations");
    });
  }
}

Deno.test("split snapshot restores into an unsplit trainer unchanged (checkpoints do not depend on the plan)", async () => {
  const device = await getDevice();
  const { D, S, B, limit } = CASES[1];
  const rng = new Rng(11, 3);
  const init = initParams({ d_in: D, d_sae: S, seed: 5, decoderNorm: 1, initThreshold: 0.3 }, new Float32Array(D));
  const cfg = trainerConfig("topk", { d_in: D, d_sae: S, k: 5, batch: B }, { auxK: 8 });
  const split = await GpuTrainer.create(device, { ...cfg, bindingLimit: limit }, init);
  split.step(new Float32Array(B * D).map(() => rng.normal()), { lr: 1e-2, t: 1, sparsityCoef: 0, auxCoef: 0.5 });
  const snap = await split.snapshot();
  split.destroy();
  const whole = await GpuTrainer.create(device, cfg, init);
  assertEquals(whole.plan.slabs.length, 1);
  await whole.restore(snap);
  const back = await whole.snapshot();
  whole.destroy();
  assert(relErr(snap.W_enc, init.W_enc) > 1e-6, "the step changed W_enc");
  for (const [key, a] of Object.entries(snap)) assertEquals(Array.from(back[key]), Array.from(a), key);
});
