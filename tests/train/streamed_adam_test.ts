/**
 * Streamed gradients (stages/train/optimizer_path.ts `streamsGradients`: no clip, untied): each latent
 * slab's W_enc / W_dec gradient goes through one reused slab-sized buffer pair into that slab's Adam
 * update. Against the stored path (test-only `keepGradients`: every slab's gradient kept, Adam after the
 * last gradient kernel) the parameters, Adam moments, dead-latent clocks and state must be bit-identical
 * after each of two steps, at every split (ragged last slab, slabs × batch chunks, the buffer paths,
 * one slab); and the second step's update must match float64 (reference gradients → Adam → row
 * renormalisation) from the first step's state, with AuxK running (dead latents from step 1 on).
 */
import { assert, assertEquals } from "../assert.ts";
import { getDevice } from "../../kernels/runtime/device.ts";
import { adamReference, decoderNormReference } from "../../kernels/optim/mod.ts";
import { type Architecture, GpuTrainer, type SaeParams } from "../../stages/train/trainer.ts";
import { referenceStep } from "../../stages/train/reference.ts";
import { Rng } from "../../stages/train/rng.ts";
import { initWithBiases, relErr, trainerConfig } from "./trainer_setup.ts";

const CASES = [
  { name: "slabs, ragged last slab", D: 32, S: 98, B: 8, limit: 1024 * 4, slabs: 4, chunks: 1 },
  { name: "slabs and batch chunks", D: 16, S: 200, B: 24, limit: 768 * 4, slabs: 5, chunks: 2 },
  { name: "slabs, buffer paths", D: 18, S: 98, B: 8, limit: 576 * 4, slabs: 4, chunks: 1 },
  { name: "one slab", D: 32, S: 96, B: 16, limit: undefined, slabs: 1, chunks: 1 },
];
const TRAINED = ["W_enc", "W_dec", "b_enc", "b_dec"] as const;

for (const arch of ["topk", "batchtopk"] as Architecture[]) {
  for (const c of CASES) {
    Deno.test(`streamed Adam ${arch} ${c.name}: equals the stored-gradient path bit for bit, matches float64`, async () => {
      const device = await getDevice();
      const { D, S, B } = c;
      const rng = new Rng(D * S, 9);
      const init = initWithBiases(D, S, 1, rng);
      const cfg = trainerConfig(arch, { d_in: D, d_sae: S, k: 5, batch: B }, {
        deadWindow: 1, // latents silent on the first batch are dead in the second: AuxK runs
        auxK: 8,
        batchTopkCap: 2,
        bindingLimit: c.limit,
      });
      const streamed = await GpuTrainer.create(device, cfg, init);
      const stored = await GpuTrainer.create(device, { ...cfg, keepGradients: true }, init);
      assertEquals([streamed.plan.slabs.length, streamed.plan.chunks.length], [c.slabs, c.chunks]);
      const batch = () => new Float32Array(B * D).map(() => rng.normal());
      const coef = { sparsityCoef: 0, auxCoef: 0.5 };
      const lr = 1e-2;
      const snaps = [];
      for (const t of [1, 2]) {
        const x = batch();
        for (const tr of [streamed, stored]) tr.step(x, { lr, t, ...coef });
        const [a, b] = [await streamed.snapshot(), await stored.snapshot()];
        for (const [key, v] of Object.entries(b)) assertEquals(Array.from(a[key]), Array.from(v), `step ${t}: ${key}`);
        snaps.push({ x, s: a });
      }
      streamed.destroy();
      stored.destroy();
      // Step 2 in float64 from the state after step 1.
      const [{ s: s1 }, { x: x2, s: s2 }] = snaps;
      const p1 = { ...init, ...Object.fromEntries(TRAINED.map((n) => [n, s1[n]])) } as SaeParams;
      const dead = Array.from(s1.since, (v) => v >= cfg.deadWindow);
      assert(dead.some((d) => d) && dead.some((d) => !d), "both live and dead latents");
      const ref = referenceStep(p1, x2, { ...cfg, dead, ...coef });
      for (const n of TRAINED) {
        const p = Float64Array.from(s1[n]);
        const m = Float64Array.from(s1[`m_${n}`]);
        const v = Float64Array.from(s1[`v_${n}`]);
        adamReference(p, m, v, ref.grads[n], { lr, b1: cfg.beta1, b2: cfg.beta2, eps: cfg.eps, step: 2 });
        const want = n === "W_dec" ? decoderNormReference(p, p, { D, S }).normalized : p;
        const step = (a: ArrayLike<number>) => Float64Array.from(a, (w, j) => w - s1[n][j]);
        const err = relErr(step(s2[n]), step(want));
        assert(err < 2e-3, `${n}: update relative error ${err}`);
        assert(relErr(s2[`m_${n}`], m) < 1e-4, `m_${n} relative error ${relErr(s2[`m_${n}`], m)}`);
      }
    });
  }
}
