/**
 * The dense step over batch-chunk × latent-slab tiles (stages/train/dense_tiles.ts) against the float64
 * references (stages/train/reference.ts, reference_gated.ts): a test-only binding limit forces several
 * slabs of unequal width (d_sae not a multiple of the slab), slabs and several chunks together (batch not
 * a multiple of the chunk), chunks alone, and d_in % 4 != 0, for standard, jumprelu and gated (whose
 * tiles stack two latent rows per batch row, so its plans differ). Loss, mse, L0, every gradient, the
 * forward-only pass's mse and the dead-latent clocks (a latent that fires only in a later chunk resets)
 * must match; three Adam steps of a split trainer give the one-piece trainer's parameters and moments.
 */
import { assert, assertEquals } from "../assert.ts";
import { getDevice } from "../../kernels/runtime/device.ts";
import { STATE } from "../../kernels/runtime/mod.ts";
import { type Architecture, GpuTrainer, type ParamName } from "../../stages/train/trainer.ts";
import { initParams } from "../../stages/train/init.ts";
import { referenceForward, referenceStep } from "../../stages/train/reference.ts";
import { Rng } from "../../stages/train/rng.ts";
import { assertStepMatches, relErr, trainerConfig } from "./trainer_setup.ts";

/** Expected [slabs, chunk sizes] per stack (1: standard, jumprelu; 2: gated). */
const CASES = [
  { name: "slabs of unequal width", D: 32, S: 98, B: 8, limit: 1024 * 4, plan: [[4, [8]], [4, [8]]] },
  { name: "slabs and chunks", D: 16, S: 198, B: 25, limit: 1024 * 4, plan: [[4, [13, 12]], [4, [9, 9, 7]]] },
  { name: "chunks", D: 16, S: 64, B: 41, limit: 1536 * 4, plan: [[1, [21, 20]], [1, [11, 11, 11, 8]]] },
  { name: "slabs, d_in % 4 != 0", D: 18, S: 98, B: 8, limit: 576 * 4, plan: [[4, [8]], [4, [8]]] },
] as const;

for (const arch of ["standard", "jumprelu", "gated"] as Architecture[]) {
  for (const c of CASES) {
    Deno.test(`dense split ${arch} ${c.name} (d_in ${c.D}, d_sae ${c.S}, batch ${c.B}): matches float64`, async () => {
      const device = await getDevice();
      const { D, S, B } = c;
      const rng = new Rng(D + S + B, 31);
      const init = initParams({ d_in: D, d_sae: S, seed: 4, decoderNorm: 1, initThreshold: 0.3 }, new Float32Array(D));
      for (let i = 0; i < S; i++) {
        const f = 0.1 + 0.9 * rng.next(); // free-norm decoder rows: the L1 term's decoder side is not trivial
        for (let k = 0; k < D; k++) init.W_dec[i * D + k] *= f;
        // every third latent rarely fires (some only in a later chunk), every ninth never
        init.b_enc[i] = (i % 9 === 0 ? -5 : i % 3 === 0 ? -2 : 0) + 0.1 * rng.normal();
        init.b_mag[i] = 0.2 * rng.normal();
        init.r_mag[i] = 0.3 * rng.normal();
      }
      for (let j = 0; j < D; j++) init.b_dec[j] = 0.1 * rng.normal();
      const x = new Float32Array(B * D).map(() => rng.normal());
      const cfg = trainerConfig(arch, { d_in: D, d_sae: S, k: 4, batch: B }, {
        normalizeDecoder: false,
        auxK: 0,
        bandwidth: 0.5,
        bindingLimit: c.limit,
      });
      const coef = { sparsityCoef: 0.4, auxCoef: 0 };
      const t = await GpuTrainer.create(device, cfg, init);
      const [slabs, chunks] = c.plan[arch === "gated" ? 1 : 0];
      assertEquals([t.plan.slabs.length, t.plan.chunks.map((r) => r.size)], [slabs, [...chunks]]);
      if (slabs > 1) assert(t.plan.slabs.at(-1)!.size < t.plan.slabs[0].size, "a narrower last slab");
      const h = { lr: 0, t: 1, ...coef };
      const val = await t.evaluate(x, h);
      t.step(x, h);
      const m = await t.metrics();
      const g = await t.gradients();
      const since = (await t.snapshot()).since;
      t.destroy();
      const ref = referenceStep(init, x, { ...cfg, ...coef });
      assert(ref.l0 > 1 && ref.l0 < S / 2, `reference L0 ${ref.l0}`);
      assert(Math.abs(val.mse - ref.mse) <= 1e-4 * ref.mse, `forward-only mse ${val.mse} vs ${ref.mse}`);
      const names: ParamName[] = ["W_enc", "W_dec", "b_enc", "b_dec"];
      if (arch === "gated") names.push("r_mag", "b_mag");
      assertStepMatches(m, g, ref, names);
      if (arch === "jumprelu") {
        assert(ref.grads.log_threshold.filter((v) => v !== 0).length > S / 4, "thresholds in the STE window");
        const e = relErr(g.log_threshold!.subarray(0, S), ref.grads.log_threshold);
        assert(e < 1e-3, `log_threshold gradient relative error ${e}`);
      }
      // Dead-latent clocks: 0 where the latent fired on some row of the batch, else batch_size.
      const { z } = referenceForward(init, x, cfg);
      const fired = (i: number, from: number, to: number) => {
        for (let r = from; r < to; r++) if (z[r * S + i] > 0) return true;
        return false;
      };
      const want = Array.from({ length: S }, (_, i) => (fired(i, 0, B) ? 0 : B));
      assertEquals(Array.from(since), want, "dead-latent clocks");
      assert(want.some((v) => v === B), "some latent never fires");
      if (chunks.length > 1) {
        const first = t.plan.chunks[0].size;
        const late = [...Array(S).keys()].filter((i) => !fired(i, 0, first) && fired(i, first, B));
        assert(late.length > 0, "some latent fires only after the first chunk");
      }
    });
  }
}

for (const arch of ["standard", "jumprelu", "gated"] as Architecture[]) {
  Deno.test(`dense split ${arch}: three Adam steps give the one-piece trainer's parameters and clocks`, async () => {
    const device = await getDevice();
    const { D, S, B, limit } = CASES[1];
    const rng = new Rng(5, 9);
    const init = initParams({ d_in: D, d_sae: S, seed: 6, decoderNorm: 1, initThreshold: 0.3 }, new Float32Array(D));
    for (let i = 0; i < S; i++) init.b_enc[i] = (i % 3 === 0 ? -2 : 0) + 0.1 * rng.normal();
    const cfg = trainerConfig(arch, { d_in: D, d_sae: S, k: 4, batch: B }, { auxK: 0, bandwidth: 0.5 });
    const whole = await GpuTrainer.create(device, cfg, init);
    const split = await GpuTrainer.create(device, { ...cfg, bindingLimit: limit }, init);
    assert(split.plan.slabs.length > 1 && split.plan.chunks.length > 1, "split into slabs and chunks");
    for (let t = 1; t <= 3; t++) {
      const x = new Float32Array(B * D).map(() => rng.normal());
      const h = { lr: 1e-2, t, sparsityCoef: 0.4, auxCoef: 0 };
      whole.step(x, h);
      split.step(x, h);
    }
    const [a, b] = [await whole.snapshot(), await split.snapshot()];
    whole.destroy();
    split.destroy();
    assert(relErr(a.W_enc, init.W_enc) > 1e-4, "the steps changed W_enc");
    assertEquals(b.state[STATE.N_DEAD], a.state[STATE.N_DEAD], "dead latents");
    for (const [key, want] of Object.entries(a)) {
      if (key === "state") continue; // (float words summed in another order)
      if (key === "since") assertEquals(Array.from(b[key]), Array.from(want), key);
      else assert(relErr(b[key], want) < 1e-4, `${key}: relative difference ${relErr(b[key], want)}`);
    }
  });
}
