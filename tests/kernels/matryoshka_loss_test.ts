/** The Matryoshka inner-level losses and per-group gradient blocks against float64. */
import { createBuffer, getDevice, readF32, uploadBuffer } from "../../kernels/runtime/device.ts";
import { createMatryoshkaLoss, matryoshkaLossReference } from "../../kernels/loss/mod.ts";
import { Rng } from "../../stages/train/rng.ts";
import { assertClose, randn, run } from "./harness.ts";

for (const [B, D, levels, innerBase] of [[37, 48, 2, 2], [64, 512, 3, 1], [5, 7, 1, 2]]) {
  Deno.test(`matryoshka_loss B ${B} d_in ${D} ${levels} inner levels: matches float64`, async () => {
    const device = await getDevice();
    const r = new Rng(B * D + levels, 81);
    const x = randn(r, B * D, 1, 0.2);
    const xhatIn = randn(r, levels * B * D);
    const dvec = randn(r, (innerBase + levels) * B * D, 0.01);
    const bufs = {
      x: uploadBuffer(device, x),
      xhat_in: uploadBuffer(device, xhatIn),
      dvec: uploadBuffer(device, dvec),
      rowstats: createBuffer(device, B * 8 * 4),
    };
    await run(device, (await createMatryoshkaLoss(device, { B, D, levels, innerBase }))(bufs));
    const ref = matryoshkaLossReference({ B, D, levels }, x, xhatIn, dvec.subarray(0, B * D));
    const got = await readF32(device, bufs.dvec, (innerBase + levels) * B * D);
    assertClose(got.subarray(innerBase * B * D), ref.blocks, "D_m blocks", { atol: 1e-6 });
    assertClose(got.subarray(0, B * D), dvec.subarray(0, B * D), "the full level's rows untouched", {
      rtol: 0,
      atol: 0,
    });
    const rs = await readF32(device, bufs.rowstats, B * 8);
    assertClose(Float64Array.from({ length: B }, (_, t) => rs[t * 8 + 5]), ref.inner, "rowstats slot 5", {
      atol: 1e-4,
    });
  });
}
