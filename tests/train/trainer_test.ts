/** The GPU trainer's loss and gradients against the float64 reference, for every architecture. */
import { assert } from "../assert.ts";
import { getDevice } from "../../kernels/runtime/device.ts";
import { type Architecture, GpuTrainer } from "../../stages/train/trainer.ts";
import { initParams } from "../../stages/train/init.ts";
import { referenceStep } from "../../stages/train/reference.ts";
import { Rng } from "../../stages/train/rng.ts";
import { activeLatents } from "./active.ts";
import { relErr, trainerConfig } from "./trainer_setup.ts";

for (const arch of ["topk", "batchtopk", "standard", "jumprelu"] as Architecture[]) {
  for (const [D, S] of [[48, 100], [64, 256]]) {
    Deno.test(`trainer ${arch} d_in ${D} d_sae ${S}: loss and gradients match float64`, async () => {
      const device = await getDevice();
      const B = 32;
      const k = 6;
      const rng = new Rng(D + S, 5);
      const init = initParams({ d_in: D, d_sae: S, seed: 3, decoderNorm: 1, initThreshold: 0.3 }, new Float32Array(D));
      for (let j = 0; j < D; j++) init.b_dec[j] = 0.1 * rng.normal();
      for (let j = 0; j < S; j++) init.b_enc[j] = 0.1 * rng.normal();
      const x = new Float32Array(B * D).map(() => rng.normal());
      const cfg = trainerConfig(arch, { d_in: D, d_sae: S, k, batch: B }, {
        deadWindow: 1, // every latent dead after one step: exercises AuxK on the second step
        auxK: 8,
        bandwidth: 0.5,
        batchTopkCap: 2,
      });
      const t = await GpuTrainer.create(device, cfg, init);
      const h = { lr: 0, t: 1, sparsityCoef: 0.3, auxCoef: 0.5 };
      t.step(x, h); // lr 0: parameters stay; the dead clocks advance
      const x2 = new Float32Array(B * D).map(() => rng.normal());
      t.step(x2, h);
      const m = await t.metrics();
      const g = await t.gradients();
      t.destroy();
      // The dead set the GPU used in step 2 (window 1): latents silent on the first batch.
      const dead = activeLatents(init, x, cfg).map((a) => !a);
      const ref = referenceStep(init, x2, { ...cfg, dead, sparsityCoef: 0.3, auxCoef: 0.5 });
      assert(Math.abs(m.mse - ref.mse) <= 1e-4 * ref.mse, `mse ${m.mse} vs ${ref.mse}`);
      assert(Math.abs(m.loss - ref.loss) <= 1e-4 * ref.loss, `loss ${m.loss} vs ${ref.loss}`);
      assert(Math.abs(m.l0 - ref.l0) < 1e-3, `l0 ${m.l0} vs ${ref.l0}`);
      for (const n of ["W_enc", "W_dec", "b_enc", "b_dec"] as const) {
        const e = relErr(g[n]!.subarray(0, ref.grads[n].length), ref.grads[n]);
        assert(e < 1e-4, `${n} gradient relative error ${e}`);
      }
      if (arch === "jumprelu") {
        const e = relErr(g.log_threshold!.subarray(0, S), ref.grads.log_threshold);
        assert(e < 1e-3, `log_threshold gradient relative error ${e}`);
      }
    });
  }
}
