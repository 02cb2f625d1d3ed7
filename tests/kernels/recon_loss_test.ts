/** The reconstruction-loss kernel in its three modes (main, AuxK, gated auxiliary) against float64. */
import { createBuffer, getDevice, readF32, uploadBuffer } from "../../kernels/runtime/device.ts";
import { createReconLoss, reconLossReference } from "../../kernels/loss/mod.ts";
import { Rng } from "../../stages/train/rng.ts";
import { assertClose, randn, run } from "./harness.ts";

for (const [B, D] of [[37, 48], [64, 512], [3, 7]]) {
  for (const mode of ["main", "aux", "gate_aux"] as const) {
    Deno.test(`recon_loss kernel (${mode}) B ${B} d_in ${D}: matches float64`, async () => {
      const device = await getDevice();
      const r = new Rng(B * D, { main: 41, aux: 42, gate_aux: 43 }[mode]);
      const x = randn(r, B * D, 1, 0.2);
      const xhat = randn(r, B * D);
      const ehat = randn(r, 2 * B * D, 0.5);
      const auxK = 16;
      const nDead = 5;
      const auxCoef = 0.25;
      const state = new Uint32Array(8);
      state[2] = nDead;
      const hyper = new Float32Array([0, 0, 0, 0, 0, 0, 0, auxCoef]);
      const bufs = {
        x: uploadBuffer(device, x),
        xhat: uploadBuffer(device, xhat),
        ehat: uploadBuffer(device, ehat),
        state: uploadBuffer(device, state),
        hyper: uploadBuffer(device, hyper),
        dvec: createBuffer(device, 2 * B * D * 4),
        rowstats: createBuffer(device, B * 8 * 4),
      };
      const k = await createReconLoss(device, { B, D, aux: mode === "aux", auxK, gateAux: mode === "gate_aux" });
      await run(device, k(bufs));
      const ref = reconLossReference({ B, D, mode, auxK, auxCoef, nDead }, x, xhat, ehat);
      const dvec = await readF32(device, bufs.dvec, 2 * B * D);
      const half = mode === "main" ? dvec.subarray(0, B * D) : dvec.subarray(B * D);
      assertClose(half, ref.dvec, "dvec", { atol: 1e-7 });
      const rs = await readF32(device, bufs.rowstats, B * 8);
      for (const c of mode === "main" ? [0, 1] : [4]) {
        const pick = (a: ArrayLike<number>) => Float64Array.from({ length: B }, (_, t) => a[t * 8 + c]);
        assertClose(pick(rs), pick(ref.rowstats), `rowstats slot ${c}`, { atol: 1e-4 });
      }
    });
  }
}
