/** Tiled transpose (kernels/transpose.wgsl): out[C, R] = inp[R, C]ᵀ. */
import { compileKernel, groupsFor } from "./kernel.ts";

const URL_ = new URL("./transpose.wgsl", import.meta.url);

export async function createTranspose(device: GPUDevice, d: { R: number; C: number }) {
  const k = await compileKernel(device, URL_, "main", { R: d.R, C: d.C });
  const max = device.limits.maxComputeWorkgroupsPerDimension;
  const gx = groupsFor(d.C, 16);
  const gy = groupsFor(d.R, 16);
  if (gx > max || gy > max) throw new Error(`transpose: ${d.R}×${d.C} exceeds maxComputeWorkgroupsPerDimension`);
  return (b: { inp: GPUBuffer; out: GPUBuffer }) => k.bind([b.inp, b.out], [gx, gy]);
}

/** Float64 reference: out[c, r] = inp[r, c] for inp [R, C] row-major. */
export function transposeReference(inp: ArrayLike<number>, R: number, C: number): Float64Array {
  const out = new Float64Array(R * C);
  for (let r = 0; r < R; r++) for (let c = 0; c < C; c++) out[c * R + r] = inp[r * C + c];
  return out;
}
