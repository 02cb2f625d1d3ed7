/** xc = x − b_dec per row (./center.wgsl). */
import { compileKernel, groupsFor } from "../runtime/kernel.ts";

const URL_ = new URL("./center.wgsl", import.meta.url);

export async function createCenter(device: GPUDevice, d: { B: number; D: number }) {
  const k = await compileKernel(device, URL_, "main", { D: d.D, N: d.B * d.D });
  return (b: { x: GPUBuffer; b_dec: GPUBuffer; xc: GPUBuffer }) =>
    k.bind({ x: b.x, b_dec: b.b_dec, xc: b.xc }, groupsFor(d.B * d.D, 256));
}
