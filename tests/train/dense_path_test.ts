/**
 * The standard / JumpReLU training step with a free-norm decoder (their default: rows of assorted
 * norms, no projection) against the float64 reference: loss, L0 and every gradient, at sizes on and
 * off the kernels' tiles.
 */
import { assert } from "../assert.ts";
import { getDevice } from "../../kernels/runtime/device.ts";
import { GpuTrainer } from "../../stages/train/trainer.ts";
import { initParams } from "../../stages/train/init.ts";
import { referenceStep } from "../../stages/train/reference.ts";
import { Rng } from "../../stages/train/rng.ts";
import { relErr, trainerConfig } from "./trainer_setup.ts";

for (const architecture of ["standard", "jumprelu"] as const) {
  for (const [D, S, B] of [[48, 100, 37], [512, 4096, 8]]) {
    Deno.test(`${architecture} step, free-norm decoder, d_in ${D} d_sae ${S}: matches float64`, async () => {
      const device = await getDevice();
      const rng = new Rng(D + S, 22);
      const init = initParams({ d_in: D, d_sae: S, seed: 4, decoderNorm: 1, initThreshold: 0.3 }, new Float32Array(D));
      for (let i = 0; i < S; i++) {
        const f = 0.1 + 0.9 * rng.next();
        for (let k = 0; k < D; k++) init.W_dec[i * D + k] *= f;
      }
      for (let j = 0; j < S; j++) init.b_enc[j] = 0.1 * rng.normal();
      for (let j = 0; j < D; j++) init.b_dec[j] = 0.1 * rng.normal();
      const x = new Float32Array(B * D).map(() => rng.normal());
      const cfg = trainerConfig(architecture, { d_in: D, d_sae: S, k: 4, batch: B }, {
        normalizeDecoder: false,
        deadWindow: 1000,
        auxK: 0,
        bandwidth: 0.5,
        batchTopkCap: 2,
      });
      const t = await GpuTrainer.create(device, cfg, init);
      t.step(x, { lr: 0, t: 1, sparsityCoef: 0.4, auxCoef: 0 });
      const m = await t.metrics();
      const g = await t.gradients();
      t.destroy();
      const ref = referenceStep(init, x, { ...cfg, sparsityCoef: 0.4, auxCoef: 0 });
      assert(ref.l0 > 1, `reference L0 ${ref.l0}`);
      assert(Math.abs(m.mse - ref.mse) <= 1e-4 * ref.mse, `mse ${m.mse} vs ${ref.mse}`);
      assert(Math.abs(m.loss - ref.loss) <= 1e-4 * ref.loss, `loss ${m.loss} vs ${ref.loss}`);
      assert(Math.abs(m.l0 - ref.l0) < 1e-3, `l0 ${m.l0} vs ${ref.l0}`);
      for (const n of ["W_enc", "W_dec", "b_enc", "b_dec"] as const) {
        const e = relErr(g[n]!.subarray(0, ref.grads[n].length), ref.grads[n]);
        assert(e < 1e-4, `${n} gradient relative error ${e}`);
      }
      if (architecture === "jumprelu") {
        const inWindow = ref.grads.log_threshold.filter((v) => v !== 0).length;
        assert(inWindow > S / 4, `only ${inWindow} thresholds get an STE gradient`);
        const e = relErr(g.log_threshold!.subarray(0, S), ref.grads.log_threshold);
        assert(e < 1e-3, `log_threshold gradient relative error ${e}`);
      }
    });
  }
}
