/**
 * The Matryoshka BatchTopK step on the GPU against float64 (stages/train/reference_matryoshka.ts):
 * loss (all levels + AuxK), L0 and every gradient, with and without AuxK, at sizes on and off the tiles.
 */
import { assert } from "../assert.ts";
import { Rng } from "../../stages/train/rng.ts";
import { secondStepWithReference } from "./active.ts";
import { assertStepMatches, initWithBiases, trainerConfig } from "./trainer_setup.ts";

const cases = [[48, 100, [12, 40], 8], [64, 256, [16, 64, 128], 0], [512, 2048, [64, 512], 16]] as const;
for (const [D, S, widths, auxK] of cases) {
  Deno.test(`matryoshka_batchtopk d_in ${D} d_sae ${S} levels ${widths} aux ${auxK}: matches float64`, async () => {
    const B = 32;
    const rng = new Rng(D + S, 91);
    const init = initWithBiases(D, S, 1, rng);
    const x = new Float32Array(B * D).map(() => rng.normal());
    const x2 = new Float32Array(B * D).map(() => rng.normal());
    const cfg = trainerConfig("matryoshka_batchtopk", { d_in: D, d_sae: S, k: 6, batch: B }, {
      deadWindow: 1, // every latent silent on the first batch is dead on the second: AuxK runs
      auxK,
      batchTopkCap: 2,
      matryoshkaWidths: [...widths, S],
    });
    const { m, g, ref } = await secondStepWithReference(cfg, init, x, x2, { sparsityCoef: 1, auxCoef: 0.5 });
    assert(ref.loss > 2 * ref.mse, `inner levels add to the loss: ${ref.loss} vs mse ${ref.mse}`);
    assertStepMatches(m, g, ref, ["W_enc", "W_dec", "b_enc", "b_dec"]);
  });
}

Deno.test("matryoshka_widths: one-line errors for bad levels", async () => {
  const { checkMatryoshkaWidths } = await import("../../stages/train/arch_matryoshka.ts");
  const bad: [number[], RegExp][] = [
    [[64, 32, 256], /strictly increasing/],
    [[2, 256], /at least k = 4/],
    [[64, 512], /exceeds d_sae 256/],
    [[1.5, 256], /list of integers/],
    [[4, 8, 16, 32, 64, 100, 128, 200, 256], /at most 8 levels/],
  ];
  for (const [w, re] of bad) {
    let msg = "";
    try {
      checkMatryoshkaWidths(w, 4, 256);
    } catch (e) {
      msg = (e as Error).message;
    }
    assert(re.test(msg) && !msg.includes("\n"), `${JSON.stringify(w)}: "${msg}"`);
  }
  checkMatryoshkaWidths([4, 64, 256], 4, 256); // fine
});
