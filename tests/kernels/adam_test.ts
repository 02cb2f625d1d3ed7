/** Adam (three steps, clip factor, bias correction) against its float64 reference. */
import { createBuffer, getDevice, readF32, uploadBuffer, writeBuffer } from "../../kernels/runtime/device.ts";
import { adamReference, createAdam } from "../../kernels/optim/mod.ts";
import { HYPER_WORDS } from "../../kernels/runtime/slots.ts";
import { Rng } from "../../stages/train/rng.ts";
import { adamHyper, assertClose, randn, run, stateWith } from "./harness.ts";

for (const n of [100, 37, 48 * 100, 512 * 4096]) {
  Deno.test(`adam kernel n ${n}: three steps match float64`, async () => {
    const device = await getDevice();
    const r = new Rng(n, 14);
    const p0 = randn(r, n);
    // The kernel reads float32 hyper-parameters: the reference uses the same rounded values.
    const f = Math.fround;
    const h = { lr: f(0.01), b1: f(0.9), b2: f(0.999), eps: f(1e-8), clip: f(0.7) };
    const bufs = {
      grad: createBuffer(device, n * 4),
      hyper: createBuffer(device, HYPER_WORDS * 4),
      state: uploadBuffer(device, stateWith({ CLIP: h.clip })),
      param: uploadBuffer(device, p0),
      m: createBuffer(device, n * 4),
      v: createBuffer(device, n * 4),
    };
    const k = (await createAdam(device, { n }))(bufs);
    const p = Float64Array.from(p0);
    const m = new Float64Array(n);
    const v = new Float64Array(n);
    for (let step = 1; step <= 3; step++) {
      const g = randn(r, n, 0.1 * step);
      writeBuffer(device, bufs.grad, g);
      writeBuffer(device, bufs.hyper, adamHyper(h, step));
      await run(device, k);
      adamReference(p, m, v, g, { ...h, step });
    }
    assertClose(await readF32(device, bufs.m, n), m, "m", { atol: 1e-8 });
    assertClose(await readF32(device, bufs.v, n), v, "v", { atol: 1e-10 });
    // Parameters ~1 moved by ~lr per step: float32 rounding of the parameter dominates.
    assertClose(await readF32(device, bufs.param, n), p, "param", { rtol: 1e-6, atol: 1e-6 });
  });
}
