/**
 * Tied weights (W_enc = W_decᵀ): the trained matrix's gradient (gW_dec + gW_encᵀ, then the row
 * projection) against float64 for every architecture that allows it, the encoder following the decoder
 * exactly after updates, and the one-line rejection for gated.
 */
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { getDevice } from "../../kernels/runtime/device.ts";
import { type Architecture, GpuTrainer } from "../../stages/train/trainer.ts";
import { initParams } from "../../stages/train/init.ts";
import { referenceStep } from "../../stages/train/reference.ts";
import { Rng } from "../../stages/train/rng.ts";
import { initWithBiases, relErr, trainerConfig } from "./trainer_setup.ts";

for (const arch of ["topk", "batchtopk", "standard", "jumprelu"] as Architecture[]) {
  for (const [D, S, clip] of [[48, 100, 0], [64, 256, 1e6]]) {
    const what = `${arch} d_in ${D} d_sae ${S}${clip ? ", clipping on" : ""}`;
    Deno.test(`tied weights, ${what}: gradient matches float64, W_enc stays W_decᵀ`, async () => {
      const device = await getDevice();
      const B = 32;
      const rng = new Rng(D + S, 71);
      const normalizeDecoder = arch === "topk" || arch === "batchtopk";
      const init = initWithBiases(D, S, normalizeDecoder ? 1 : 0.5, rng, 0.05);
      const x = new Float32Array(B * D).map(() => rng.normal());
      const cfg = trainerConfig(arch, { d_in: D, d_sae: S, k: 6, batch: B }, {
        auxK: 0,
        bandwidth: 0.5,
        batchTopkCap: 2,
        normalizeDecoder,
        clipGradNorm: clip, // a huge clip norm: the clip path runs, the factor stays 1
        tiedWeights: true,
      });
      const t = await GpuTrainer.create(device, cfg, init);
      const h = { lr: 0, t: 1, sparsityCoef: 0.3, auxCoef: 0 };
      t.step(x, h);
      const m = await t.metrics();
      const g = await t.gradients();
      const ref = referenceStep(init, x, { ...cfg, sparsityCoef: 0.3, auxCoef: 0 });
      assert(Math.abs(m.loss - ref.loss) <= 1e-4 * ref.loss, `loss ${m.loss} vs ${ref.loss}`);
      const e = relErr(g.W_dec!.subarray(0, S * D), ref.grads.W_dec);
      assert(e < 1e-4, `tied gradient relative error ${e}`);
      for (let s = 2; s <= 4; s++) t.step(x, { ...h, lr: 1e-2, t: s });
      const p = await t.params();
      t.destroy();
      let moved = 0;
      for (let i = 0; i < S; i++) {
        for (let d = 0; d < D; d++) {
          assertEquals(p.W_enc[d * S + i], p.W_dec[i * D + d], `W_enc[${d}, ${i}]`);
          moved += Math.abs(p.W_dec[i * D + d] - init.W_dec[i * D + d]);
        }
      }
      assert(moved > 0, "the tied matrix trained");
    });
  }
}

Deno.test("tied weights: gated is rejected with one line", async () => {
  const device = await getDevice();
  const init = initParams({ d_in: 8, d_sae: 16, seed: 1, decoderNorm: 0.1, initThreshold: 0.1 }, new Float32Array(8));
  const cfg = trainerConfig("gated", { d_in: 8, d_sae: 16, k: 2, batch: 4 }, { tiedWeights: true });
  const e = await assertRejects(() => GpuTrainer.create(device, cfg, init));
  assert(/tied_weights is not supported for gated/.test(e.message) && !e.message.includes("\n"), e.message);
});
