/**
 * The gated SAE's training step on the GPU against the float64 reference (stages/train/reference_gated.ts):
 * loss (mse + gate L1 + auxiliary reconstruction), L0 and the gradient of every parameter (W_enc, W_dec,
 * b_gate, b_dec, r_mag, b_mag), free-norm and unit-norm decoders, the auxiliary term's decoder trained
 * (SAELens) or frozen (paper), at sizes on and off the kernels' tiles.
 */
import { assert } from "../assert.ts";
import { initParams } from "../../stages/train/init.ts";
import { Rng } from "../../stages/train/rng.ts";
import { assertStepMatches, stepWithReference, trainerConfig } from "./trainer_setup.ts";

const cases = [[48, 100, 37, false, false], [512, 4096, 8, false, false], [64, 256, 32, true, true], [
  48,
  100,
  37,
  false,
  true,
]];
for (const [D, S, B, normalizeDecoder, gatedFrozenDecoder] of cases as [number, number, number, boolean, boolean][]) {
  const variant = `${normalizeDecoder ? ", unit decoder" : ""}${gatedFrozenDecoder ? ", frozen aux decoder" : ""}`;
  Deno.test(`gated step d_in ${D} d_sae ${S} batch ${B}${variant}: matches float64`, async () => {
    const rng = new Rng(D + S + B, 23);
    const init = initParams({ d_in: D, d_sae: S, seed: 4, decoderNorm: 1, initThreshold: 0.3 }, new Float32Array(D));
    if (!normalizeDecoder) {
      for (let i = 0; i < S; i++) {
        const f = 0.1 + 0.9 * rng.next();
        for (let k = 0; k < D; k++) init.W_dec[i * D + k] *= f;
      }
    }
    for (let j = 0; j < S; j++) {
      init.b_enc[j] = 0.1 * rng.normal();
      init.b_mag[j] = 0.2 * rng.normal();
      init.r_mag[j] = 0.3 * rng.normal();
    }
    for (let j = 0; j < D; j++) init.b_dec[j] = 0.1 * rng.normal();
    const x = new Float32Array(B * D).map(() => rng.normal());
    const cfg = trainerConfig("gated", { d_in: D, d_sae: S, k: 4, batch: B }, {
      normalizeDecoder,
      gatedFrozenDecoder,
      auxK: 0,
    });
    const { m, g, ref } = await stepWithReference(cfg, init, x, { sparsityCoef: 0.4, auxCoef: 0 });
    assert(ref.l0 > 1 && ref.l0 < S / 2, `reference L0 ${ref.l0}`);
    assert(m.aux_loss > 0 && m.loss > m.mse + m.aux_loss, `aux ${m.aux_loss}, loss ${m.loss}, mse ${m.mse}`);
    assertStepMatches(m, g, ref, ["W_enc", "W_dec", "b_enc", "b_dec", "r_mag", "b_mag"]);
  });
}
