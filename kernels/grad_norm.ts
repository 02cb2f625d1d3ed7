/**
 * Global gradient-norm clipping factor (kernels/grad_norm.wgsl): state.clip = min(1, max/(‖g‖+1e-6))
 * with ‖g‖² summed over every gradient buffer in a fixed order (deterministic).
 */
import { createBuffer } from "./device.ts";
import { compileKernel } from "./kernel.ts";

const URL_ = new URL("./grad_norm.wgsl", import.meta.url);
const PARTS = 64;

export async function createGradNorm(device: GPUDevice, d: { sizes: number[]; maxNorm: number }) {
  const total = PARTS * d.sizes.length;
  const partials = createBuffer(device, total * 4, "grad norm partials");
  const parts = await Promise.all(
    d.sizes.map((n, j) => compileKernel(device, URL_, "partial", { N: n, OFFSET: j * PARTS })),
  );
  const finish = await compileKernel(device, URL_, "finish", { TOTAL: total, MAX_NORM: d.maxNorm });
  return (b: { grads: GPUBuffer[]; state: GPUBuffer }) => {
    const bound = parts.map((p, j) => p.bind([b.grads[j], partials], [PARTS, 1]));
    bound.push(finish.bind([partials, b.state], [1, 1]));
    return { encode: (enc: GPUCommandEncoder) => bound.forEach((p) => p.encode(enc)) };
  };
}

/** Float64 reference: ‖g‖ = sqrt(Σ_buffers Σ_j g_j²), clip = min(1, maxNorm / (‖g‖ + 1e-6)). */
export function gradNormReference(grads: ArrayLike<number>[], maxNorm: number): { norm: number; clip: number } {
  let s = 0;
  for (const g of grads) for (let j = 0; j < g.length; j++) s += g[j] * g[j];
  const norm = Math.sqrt(s);
  return { norm, clip: Math.min(1, maxNorm / (norm + 1e-6)) };
}
