/** Global gradient norm and clip factor over several buffers, against the float64 reference. */
import { assert } from "../assert.ts";
import { getDevice, readF32, uploadBuffer } from "../../kernels/runtime/device.ts";
import { createGradNorm, gradNormReference } from "../../kernels/optim/mod.ts";
import { Rng } from "../../stages/train/rng.ts";
import { randn, run } from "./harness.ts";

const cases: [string, number[], number][] = [
  ["one small buffer, no clipping", [100], 1e3],
  ["d_in 48 d_sae 100 parameter set", [48 * 100, 100 * 48, 100, 48], 0.5],
  ["d_in 512 d_sae 4096 parameter set", [512 * 4096, 4096 * 512, 4096, 512], 10],
];

for (const [name, sizes, maxNorm] of cases) {
  Deno.test(`grad_norm kernel, ${name}: norm and clip match float64`, async () => {
    const device = await getDevice();
    const r = new Rng(sizes.length, 15);
    const grads = sizes.map((n) => randn(r, n, 0.01));
    const state = uploadBuffer(device, new Float32Array(8));
    const k = (await createGradNorm(device, { sizes, maxNorm }))({
      grads: grads.map((g) => uploadBuffer(device, g)),
      state,
    });
    await run(device, k);
    const [clip, norm] = await readF32(device, state, 2);
    const ref = gradNormReference(grads, maxNorm);
    assert(Math.abs(norm - ref.norm) <= 1e-5 * ref.norm, `norm ${norm} vs ${ref.norm}`);
    assert(Math.abs(clip - ref.clip) <= 1e-5 * ref.clip, `clip ${clip} vs ${ref.clip}`);
    assert((ref.clip < 1) === (maxNorm < 100), `case clips: ${ref.clip}`);
  });
}
