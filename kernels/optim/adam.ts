/**
 * Adam on one parameter buffer (./adam.wgsl), torch semantics, gradient × clip factor.
 * `hyper` (host-written each step): lr, β1, β2, ε, 1−β1^t, 1−β2^t (slots: ../runtime/slots.ts).
 */
import { compileKernel, groupsFor } from "../runtime/kernel.ts";

const URL_ = new URL("./adam.wgsl", import.meta.url);

export async function createAdam(device: GPUDevice, d: { n: number }) {
  const w = d.n % 4 === 0 ? 4 : 1; // floats per element
  const k = await compileKernel(device, URL_, "main", { N: d.n / w }, { V4: w === 4 ? 1 : 0 });
  return (b: { grad: GPUBuffer; hyper: GPUBuffer; state: GPUBuffer; param: GPUBuffer; m: GPUBuffer; v: GPUBuffer }) =>
    k.bind({ grad: b.grad, hyper: b.hyper, state: b.state, param: b.param, m: b.m, v: b.v }, groupsFor(d.n / w, 256));
}
