/** Tied-weight kernels (gW_dec + gW_encᵀ, W_enc = W_decᵀ) against float64, on and off the 16 × 16 tile. */
import { createBuffer, getDevice, readF32, uploadBuffer } from "../../kernels/runtime/device.ts";
import { createTie, tieReference } from "../../kernels/optim/mod.ts";
import { Rng } from "../../stages/train/rng.ts";
import { assertClose, randn, run } from "./harness.ts";

for (const [D, S] of [[48, 100], [64, 256], [7, 1000], [512, 4096]]) {
  Deno.test(`tie kernels d_in ${D} d_sae ${S} match float64`, async () => {
    const device = await getDevice();
    const r = new Rng(D * S, 61);
    const gW_enc = randn(r, D * S);
    const gW_dec = randn(r, S * D);
    const W_dec = randn(r, S * D);
    const bufs = {
      gW_enc: uploadBuffer(device, gW_enc),
      gW_dec: uploadBuffer(device, gW_dec),
      W_dec: uploadBuffer(device, W_dec),
      W_enc: createBuffer(device, D * S * 4),
    };
    const k = (await createTie(device, { D, S }))(bufs);
    await run(device, k.addTransposed, k.transpose);
    const ref = tieReference({ D, S }, gW_enc, gW_dec, W_dec);
    assertClose(await readF32(device, bufs.gW_dec, S * D), ref.gTied, "gW_dec + gW_encᵀ", { atol: 1e-6 });
    assertClose(await readF32(device, bufs.W_enc, D * S), ref.W_enc, "W_decᵀ", { rtol: 0, atol: 0 });
  });
}
