/** The per-step metrics reduction against its float64 reference (training and validation modes). */
import { assert, assertEquals } from "../assert.ts";
import { createBuffer, getDevice, readF32, readU32, uploadBuffer } from "../../kernels/runtime/device.ts";
import { createMetrics, metricsReference } from "../../kernels/loss/mod.ts";
import { Rng } from "../../stages/train/rng.ts";
import { adamHyper, randn, run, stateWith } from "./harness.ts";
import { HYPER, STATE } from "../../kernels/runtime/slots.ts";

for (const [B, D, S] of [[37, 48, 100], [256, 512, 4096]]) {
  for (const mode of ["train", "validation", "gated"] as const) {
    Deno.test(`metrics kernel B ${B} d_in ${D} d_sae ${S}, ${mode}: match float64`, async () => {
      const device = await getDevice();
      const r = new Rng(B + D + S, { train: 17, validation: 18, gated: 19 }[mode]);
      const x = randn(r, B * D, 1, 0.3);
      const rowstats = new Float32Array(B * 8);
      for (let t = 0; t < B; t++) {
        let xx = 0;
        for (let k = 0; k < D; k++) xx += x[t * D + k] ** 2;
        rowstats.set([0.2 * xx * r.next(), xx, r.int(S), 10 * r.next(), 0.5 + r.next(), 3 * r.next(), 0, 0], t * 8);
      }
      const window = 1000;
      const since = new Uint32Array(S).map(() => r.int(2 * window));
      const hyper = adamHyper({ lr: 0.01, b1: 0.9, b2: 0.999, eps: 1e-8 }, 1);
      hyper.set([0.7, 0.25], HYPER.SPARSITY_COEF); // then AUX_COEF
      const state = new Uint32Array(stateWith({ GRAD_NORM: 3.5 }).buffer);
      state[STATE.N_DEAD] = 40; // dead count the step's AuxK used
      const training = mode !== "validation";
      const d = {
        B,
        D,
        S,
        window,
        auxK: 64,
        penalty: true,
        aux: mode === "train",
        gateAux: mode === "gated",
        dead: training,
      };
      const bufs = {
        rowstats: uploadBuffer(device, rowstats),
        x: uploadBuffer(device, x),
        since: uploadBuffer(device, since),
        hyper: uploadBuffer(device, hyper),
        state: uploadBuffer(device, state),
        metrics: createBuffer(device, 8 * 4),
      };
      await run(device, (await createMetrics(device, d))(bufs));
      const got = await readF32(device, bufs.metrics, 8);
      const ref = metricsReference(d, { rowstats, x, since, hyper }, state);
      assert(ref.nDead > 0 && ref.nDead < S, `dead ${ref.nDead}`);
      for (let c = 0; c < 8; c++) {
        const want = ref.metrics[c];
        assert(Math.abs(got[c] - want) <= 1e-5 * Math.abs(want) + 1e-6, `metric ${c}: ${got[c]} vs ${want}`);
      }
      assert(training ? ref.metrics[6] > 0 : ref.metrics[6] === 0, "aux loss present only in training");
      assertEquals((await readU32(device, bufs.state, 8))[2], training ? ref.nDead : 40);
    });
  }
}
