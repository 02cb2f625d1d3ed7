/** Decoder-row kernels (norms, project, normalize, l1_grad) against the float64 reference. */
import { createBuffer, getDevice, readF32, uploadBuffer } from "../../kernels/runtime/device.ts";
import { createDecoderNorm, decoderNormReference } from "../../kernels/optim/mod.ts";
import { Rng } from "../../stages/train/rng.ts";
import { assertClose, hyperWith, randn, run } from "./harness.ts";

for (const [D, S] of [[48, 100], [512, 4096], [100, 37]]) {
  Deno.test(`decoder_norm kernels d_in ${D} d_sae ${S} match float64`, async () => {
    const device = await getDevice();
    const r = new Rng(D * S, 16);
    const B = 37;
    const l1 = 0.8;
    // Rows of assorted norms (0.1 .. 2), as a free-norm decoder has.
    const W = randn(r, S * D, 1 / Math.sqrt(D));
    for (let i = 0; i < S; i++) {
      const f = 0.1 + 1.9 * r.next();
      for (let k = 0; k < D; k++) W[i * D + k] *= f;
    }
    const g = randn(r, S * D, 0.01);
    const zsum = new Float32Array(S).map(() => (r.next() < 0.2 ? 0 : 5 * r.next()));
    const ref = decoderNormReference(W, g, { D, S, B, l1, zsum });
    const fresh = () => ({
      W_dec: uploadBuffer(device, W),
      gW_dec: uploadBuffer(device, g),
      wnorm: createBuffer(device, S * 4),
      zsum: uploadBuffer(device, zsum),
      hyper: uploadBuffer(device, hyperWith({ SPARSITY_COEF: l1 })),
    });
    const make = await createDecoderNorm(device, { D, S, B });
    const a = fresh();
    const b = fresh();
    const c = fresh();
    const [ka, kb, kc] = [make(a), make(b), make(c)];
    await run(device, ka.norms, ka.project, kb.normalize, kc.l1Grad!);
    assertClose(await readF32(device, a.wnorm, S), ref.wnorm, "wnorm");
    assertClose(await readF32(device, a.gW_dec, S * D), ref.projected, "projected gradient", { atol: 1e-8 });
    assertClose(await readF32(device, b.W_dec, S * D), ref.normalized, "normalized rows", { atol: 1e-7 });
    assertClose(await readF32(device, c.gW_dec, S * D), ref.l1Grad, "l1 gradient", { atol: 1e-8 });
  });
}
