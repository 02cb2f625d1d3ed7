/**
 * TopK / BatchTopK transcoders (x [B, d_in] → y [B, d_out]) on the sparse path against the float64 reference
 * (stages/train/reference_topk_transcoder.ts), at every split: a test-only binding limit forces latent slabs
 * (W_dec slabs [w, d_out]) and batch chunks; d_out above and below d_in, one of them not a multiple of 4 (the
 * sparse kernels' buffer paths); with and without W_skip. Tied encoder columns across slabs, rows with fewer
 * than k positive pre-activations, dead latents (AuxK on y − ŷ); loss, every gradient and the selected
 * indices (main and AuxK) must match.
 */
import { assert, assertEquals } from "../assert.ts";
import { getDevice } from "../../kernels/runtime/device.ts";
import { type Architecture, GpuTrainer, type ParamName } from "../../stages/train/trainer.ts";
import { initTranscoder } from "../../stages/train/transcoder_setup.ts";
import { referenceForward } from "../../stages/train/reference.ts";
import { referenceTopkTranscoderStep } from "../../stages/train/reference_topk_transcoder.ts";
import { Rng } from "../../stages/train/rng.ts";
import { assertStepMatches, relErr, trainerConfig } from "./trainer_setup.ts";
import { assertSelections } from "./selection.ts";

const CASES = [
  { name: "one piece, W_skip", D: 40, O: 24, S: 98, B: 8, slabs: 1, chunks: 1, skip: true },
  { name: "slabs (d_out < d_in)", D: 40, O: 24, S: 98, B: 8, limit: 1024, slabs: 5, chunks: 1 },
  { name: "slabs and batch chunks", D: 16, O: 12, S: 200, B: 40, limit: 1000, slabs: 4, chunks: 3 },
  { name: "slabs, buffer paths, W_skip", D: 18, O: 44, S: 98, B: 8, limit: 800, slabs: 7, chunks: 1, skip: true },
  { name: "slabs, buffer paths (d_out < d_in)", D: 44, O: 18, S: 98, B: 8, limit: 800, slabs: 7, chunks: 1 },
];

for (const arch of ["topk", "batchtopk"] as Architecture[]) {
  for (const c of CASES) {
    Deno.test(`topk transcoder ${arch} ${c.name} (${c.D} → ${c.O}, d_sae ${c.S}, batch ${c.B}): matches float64`, async () => {
      const device = await getDevice();
      const { D, O, S, B } = c;
      const k = 5;
      const rng = new Rng(D + O + S, 9);
      const init = initTranscoder(
        { d_in: D, d_sae: S, d_out: O, seed: 4, decoderNorm: 1, initThreshold: 0.3 },
        new Float32Array(O).map(() => 0.1 * rng.normal()),
        !!c.skip,
      );
      if (init.W_skip) init.W_skip = init.W_skip.map(() => 0.1 * rng.normal());
      const half = Math.floor(S / 2);
      for (let i = 0; i < S; i++) init.b_enc[i] = i < half ? -0.6 + 0.1 * rng.normal() : init.b_enc[i - half];
      // Latent half + i copies latent i's encoder column (another slab): equal pre-activations, ties to the lower index.
      for (let d = 0; d < D; d++) {
        for (let i = half; i < 2 * half; i++) init.W_enc[d * S + i] = init.W_enc[d * S + i - half];
      }
      // Every fourth row is small: fewer than k positive pre-activations there.
      const rows = () => new Float32Array(B * D).map((_, j) => rng.normal() * (Math.floor(j / D) % 4 === 0 ? 0.05 : 1));
      const cfg = trainerConfig(arch, { d_in: D, d_sae: S, k, batch: B }, {
        deadWindow: 1, // latents silent on the first batch are dead in the second: AuxK runs
        auxK: 8,
        batchTopkCap: 2,
        bindingLimit: c.limit ? c.limit * 4 : undefined,
        d_out: O,
        skip: !!c.skip,
        keepGradients: true, // every slab's gradient stays readable (streamed: the test below)
      });
      const t = await GpuTrainer.create(device, cfg, init);
      assertEquals([t.plan.slabs.length, t.plan.chunks.length], [c.slabs, c.chunks]);
      const h = { lr: 0, t: 1, sparsityCoef: 0, auxCoef: 0.5 };
      const x = rows();
      t.step(x, h, new Float32Array(B * O).map(() => rng.normal()));
      const x2 = rows(), y2 = new Float32Array(B * O).map(() => rng.normal());
      t.step(x2, h, y2);
      const m = await t.metrics();
      const g = await t.gradients();
      const e = await t.entries();
      t.destroy();
      // the input side has no b_dec: the plain SAE's selection with b_dec = 0
      const noCentre = { ...init, b_dec: new Float32Array(D) };
      const z1 = referenceForward(noCentre, x, cfg).z;
      const dead = Array.from(
        { length: S },
        (_, i) => !Array.from({ length: B }, (_, r) => z1[r * S + i]).some((v) => v > 0),
      );
      assert(dead.some((d) => d) && dead.some((d) => !d), "both live and dead latents");
      const ref = referenceTopkTranscoderStep(init, x2, y2, { ...cfg, d_out: O, dead, ...h });
      const names: ParamName[] = ["W_enc", "W_dec", "b_enc", "b_dec", ...(c.skip ? ["W_skip" as const] : [])];
      assertStepMatches(m, g, ref, names);
      const { pre, z } = referenceForward(noCentre, x2, cfg);
      const fewer = assertSelections(e.idx, { pre, z, dead }, { B, S, cap: t.cap, auxK: 8, k });
      assert(fewer > 0, "some row has fewer than k positive pre-activations");
    });
  }
}

// Streamed gradients (each slab's W_enc [d_in, w] / W_dec [w, d_out] gradient into its Adam through one reused
// pair): bit-identical to the stored-gradient path after two steps, at the splits with d_out ≠ d_in.
for (const c of [CASES[2], CASES[3]]) {
  Deno.test(`topk transcoder streamed Adam ${c.name} (${c.D} → ${c.O}): equals the stored-gradient path`, async () => {
    const device = await getDevice();
    const { D, O, S, B } = c;
    const rng = new Rng(D * O, 5);
    const init = initTranscoder(
      { d_in: D, d_sae: S, d_out: O, seed: 2, decoderNorm: 1, initThreshold: 0.3 },
      new Float32Array(O).map(() => 0.1 * rng.normal()),
      !!c.skip,
    );
    const cfg = trainerConfig("topk", { d_in: D, d_sae: S, k: 5, batch: B }, {
      deadWindow: 1,
      auxK: 8,
      bindingLimit: c.limit! * 4,
      d_out: O,
      skip: !!c.skip,
    });
    const streamed = await GpuTrainer.create(device, cfg, init);
    const stored = await GpuTrainer.create(device, { ...cfg, keepGradients: true }, init);
    assertEquals(streamed.plan.slabs.length, c.slabs);
    for (const t of [1, 2]) {
      const x = new Float32Array(B * D).map(() => rng.normal());
      const y = new Float32Array(B * O).map(() => rng.normal());
      for (const tr of [streamed, stored]) tr.step(x, { lr: 1e-2, t, sparsityCoef: 0, auxCoef: 0.5 }, y);
      const [a, b] = [await streamed.snapshot(), await stored.snapshot()];
      assert(relErr(a.W_dec, init.W_dec) > 1e-6, "the step changed W_dec");
      for (const [key, v] of Object.entries(b)) assertEquals(Array.from(a[key]), Array.from(v), `step ${t}: ${key}`);
    }
    streamed.destroy();
    stored.destroy();
  });
}
