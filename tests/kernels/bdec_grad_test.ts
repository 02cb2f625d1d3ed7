/** bdec_grad (gb_dec = Σ_t dvec − W_enc·gb_enc) against its float64 reference. */
import { createBuffer, getDevice, readF32, uploadBuffer } from "../../kernels/runtime/device.ts";
import { bdecGradReference, createBdecGrad } from "../../kernels/dense/mod.ts";
import { Rng } from "../../stages/train/rng.ts";
import { assertClose, randn, run } from "./harness.ts";

for (const [B, D, S, row0] of [[37, 48, 100, 0], [256, 512, 4096, 0], [5, 512, 100, 0], [37, 48, 100, 74]]) {
  Deno.test(`bdec_grad kernel B ${B} d_in ${D} d_sae ${S}${row0 ? ` rows from ${row0}` : ""} matches float64`, async () => {
    const device = await getDevice();
    const r = new Rng(B + D + S, 13);
    const all = randn(r, (row0 + B) * D);
    const dvec = all.subarray(row0 * D);
    const W_enc = randn(r, D * S, 1 / Math.sqrt(D));
    const gbEnc = randn(r, S);
    const gb_dec = createBuffer(device, D * 4);
    const k = (await createBdecGrad(device, { B, D, S, row0 }))({
      dvec: uploadBuffer(device, all),
      W_enc: uploadBuffer(device, W_enc),
      gb_enc: uploadBuffer(device, gbEnc),
      gb_dec,
    });
    await run(device, k);
    // Sums of B + S unit-scale terms: float32 error ~ 1e-7·(B + S)^½ · typical |term|.
    const atol = 1e-6 * Math.sqrt(B + S);
    assertClose(await readF32(device, gb_dec, D), bdecGradReference(dvec, W_enc, gbEnc, { B, D, S }), "gb_dec", {
      atol,
    });
  });
}
