/** Fused decoder Adam (projection → Adam → renormalisation per row) against the float64 references. */
import { getDevice, readF32, uploadBuffer, writeBuffer } from "../../kernels/runtime/device.ts";
import { createDecoderAdam } from "../../kernels/optim/mod.ts";
import { adamReference } from "../../kernels/optim/mod.ts";
import { decoderNormReference } from "../../kernels/optim/mod.ts";
import { Rng } from "../../stages/train/rng.ts";
import { adamHyper, assertClose, hyperWith, randn, run, stateWith } from "./harness.ts";

const cases = [
  { D: 512, S: 96, project: true, normalize: true },
  { D: 37, S: 50, project: true, normalize: true }, // scalar elements (d_in % 4 ≠ 0)
  { D: 48, S: 33, project: false, normalize: true }, // clipped runs project separately
  { D: 20, S: 17, project: true, normalize: false },
];
for (const c of cases) {
  Deno.test(`decoder_adam d_in ${c.D} d_sae ${c.S} project ${c.project} normalize ${c.normalize}: two steps match float64`, async () => {
    const device = await getDevice();
    const { D, S } = c;
    const r = new Rng(D * S, 21);
    const f = Math.fround;
    const h = { lr: f(0.01), b1: f(0.9), b2: f(0.999), eps: f(1e-8), clip: f(0.7) };
    // Rows of assorted norms, moments already non-zero (a run in progress).
    const W0 = randn(r, S * D, 1 / Math.sqrt(D));
    for (let i = 0; i < S; i++) {
      const s = 0.2 + 1.5 * r.next();
      for (let k = 0; k < D; k++) W0[i * D + k] *= s;
    }
    const m0 = randn(r, S * D, 0.01);
    const v0 = new Float32Array(S * D).map(() => 1e-4 * r.next() + 1e-6);
    const bufs = {
      gW_dec: uploadBuffer(device, new Float32Array(S * D)),
      hyper: uploadBuffer(device, hyperWith({})),
      state: uploadBuffer(device, stateWith({ CLIP: h.clip })),
      W_dec: uploadBuffer(device, W0),
      m: uploadBuffer(device, m0),
      v: uploadBuffer(device, v0),
    };
    const k = (await createDecoderAdam(device, c))(bufs);
    let W = Float64Array.from(W0);
    const m = Float64Array.from(m0);
    const v = Float64Array.from(v0);
    let projected = new Float64Array(0);
    for (const step of [5, 6]) {
      const g = randn(r, S * D, 0.01);
      writeBuffer(device, bufs.gW_dec, g);
      writeBuffer(device, bufs.hyper, adamHyper(h, step));
      await run(device, k);
      projected = c.project ? decoderNormReference(W, g, { D, S }).projected : Float64Array.from(g);
      adamReference(W, m, v, projected, { ...h, step });
      if (c.normalize) W = decoderNormReference(W, projected, { D, S }).normalized;
    }
    assertClose(await readF32(device, bufs.gW_dec, S * D), projected, "projected gradient", { atol: 1e-8 });
    assertClose(await readF32(device, bufs.m, S * D), m, "m", { atol: 1e-8 });
    assertClose(await readF32(device, bufs.v, S * D), v, "v", { atol: 1e-10 });
    assertClose(await readF32(device, bufs.W_dec, S * D), W, "W_dec", { rtol: 1e-5, atol: 1e-6 });
    if (c.normalize) {
      const got = await readF32(device, bufs.W_dec, S * D);
      for (let i = 0; i < S; i++) {
        let n = 0;
        for (let d = 0; d < D; d++) n += got[i * D + d] ** 2;
        if (Math.abs(Math.sqrt(n) - 1) > 1e-5) throw new Error(`row ${i} has norm ${Math.sqrt(n)}`);
      }
    }
  });
}
