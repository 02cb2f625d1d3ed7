/**
 * Adam on one parameter buffer (kernels/adam.wgsl), torch semantics, gradient × clip factor.
 * `hyper` (host-written each step): [lr, β1, β2, ε, 1−β1^t, 1−β2^t, …].
 */
import { groupsFor } from "./kernel.ts";
import { bindModule, compileTemplate } from "./row_texture.ts";

const URL_ = new URL("./adam.wgsl", import.meta.url);

export async function createAdam(device: GPUDevice, d: { n: number }) {
  const w = d.n % 4 === 0 ? 4 : 1; // floats per element
  const module = await compileTemplate(device, URL_, { V4: w === 4 ? 1 : 0 });
  return (b: { grad: GPUBuffer; hyper: GPUBuffer; state: GPUBuffer; param: GPUBuffer; m: GPUBuffer; v: GPUBuffer }) =>
    bindModule(
      device,
      module,
      "main",
      { N: d.n / w },
      [b.grad, b.hyper, b.state, b.param, b.m, b.v],
      groupsFor(d.n / w, 256),
    );
}

/** Float64 reference of one Adam step (in place on float64 copies). */
export function adamReference(
  p: Float64Array,
  m: Float64Array,
  v: Float64Array,
  g: ArrayLike<number>,
  h: { lr: number; b1: number; b2: number; eps: number; step: number; clip?: number },
): void {
  const bc1 = 1 - h.b1 ** h.step;
  const bc2 = 1 - h.b2 ** h.step;
  for (let j = 0; j < p.length; j++) {
    const gj = g[j] * (h.clip ?? 1);
    m[j] = h.b1 * m[j] + (1 - h.b1) * gj;
    v[j] = h.b2 * v[j] + (1 - h.b2) * gj * gj;
    p[j] -= (h.lr / bc1) * m[j] / (Math.sqrt(v[j]) / Math.sqrt(bc2) + h.eps);
  }
}
