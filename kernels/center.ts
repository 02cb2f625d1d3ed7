/** xc = x − b_dec per row (kernels/center.wgsl). */
import { compileKernel, groupsFor } from "./kernel.ts";

const URL_ = new URL("./center.wgsl", import.meta.url);

export async function createCenter(device: GPUDevice, d: { B: number; D: number }) {
  const k = await compileKernel(device, URL_, "main", { D: d.D, N: d.B * d.D });
  return (b: { x: GPUBuffer; b_dec: GPUBuffer; xc: GPUBuffer }) =>
    k.bind([b.x, b.b_dec, b.xc], groupsFor(d.B * d.D, 256));
}

/** Float64 reference: xc[t, d] = x[t, d] − b_dec[d] for x [n, D]. */
export function centerReference(x: ArrayLike<number>, bDec: ArrayLike<number>, D: number): Float64Array {
  return Float64Array.from({ length: x.length }, (_, j) => x[j] - bDec[j % D]);
}
