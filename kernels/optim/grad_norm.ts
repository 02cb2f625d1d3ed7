/**
 * Global gradient-norm clipping factor (./grad_norm.wgsl): state.clip = min(1, max/(‖g‖+1e-6))
 * with ‖g‖² summed over every gradient buffer in a fixed order (deterministic).
 */
import { createBuffer } from "../runtime/device.ts";
import { compileKernel } from "../runtime/kernel.ts";

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
    const bound = parts.map((p, j) => p.bind({ grad: b.grads[j], partials }, [PARTS, 1]));
    bound.push(finish.bind({ parts: partials, state: b.state }, [1, 1]));
    return { encode: (enc: GPUCommandEncoder) => bound.forEach((p) => p.encode(enc)) };
  };
}
