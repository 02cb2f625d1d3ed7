/** center (xc = x − b_dec) against its float64 reference, on and off the 256-wide workgroup. */
import { createBuffer, getDevice, readF32, uploadBuffer } from "../../kernels/runtime/device.ts";
import { centerReference, createCenter } from "../../kernels/dense/mod.ts";
import { Rng } from "../../stages/train/rng.ts";
import { assertClose, randn, run } from "./harness.ts";

for (const [B, D] of [[37, 48], [256, 512], [3, 100]]) {
  Deno.test(`center kernel B ${B} d_in ${D} matches float64`, async () => {
    const device = await getDevice();
    const r = new Rng(B * D, 11);
    const x = randn(r, B * D, 2);
    const bDec = randn(r, D, 0.5);
    const xc = createBuffer(device, B * D * 4);
    const k = (await createCenter(device, { B, D }))({
      x: uploadBuffer(device, x),
      b_dec: uploadBuffer(device, bDec),
      xc,
    });
    await run(device, k);
    assertClose(await readF32(device, xc, B * D), centerReference(x, bDec, D), "xc", { rtol: 1e-7, atol: 1e-6 });
  });
}
