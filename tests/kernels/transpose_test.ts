/** transpose against its float64 reference: exact, on and off the 16×16 tile. */
import { assertEquals } from "../assert.ts";
import { createBuffer, getDevice, readF32, uploadBuffer } from "../../kernels/device.ts";
import { createTranspose, transposeReference } from "../../kernels/transpose.ts";
import { Rng } from "../../stages/train/rng.ts";
import { randn, run } from "./harness.ts";

for (const [R, C] of [[100, 48], [4096, 512], [17, 33]]) {
  Deno.test(`transpose kernel ${R}×${C} matches the reference exactly`, async () => {
    const device = await getDevice();
    const inp = randn(new Rng(R + C, 12), R * C);
    const out = createBuffer(device, R * C * 4);
    await run(device, (await createTranspose(device, { R, C }))({ inp: uploadBuffer(device, inp), out }));
    assertEquals(Array.from(await readF32(device, out, R * C)), Array.from(transposeReference(inp, R, C)));
  });
}
