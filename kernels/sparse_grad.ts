/**
 * Per-entry pre-activation gradient (kernels/sparse_grad.wgsl): g[e] = dvec[t(e)] · W_dec[idx[e]], one invocation per entry,
 * for the main entries (reconstruction gradient) and the AuxK entries (aux gradient rows).
 */
import { compileKernel, groupsFor } from "./kernel.ts";

const URL_ = new URL("./sparse_grad.wgsl", import.meta.url);

export async function createSparseGrad(device: GPUDevice, d: { B: number; D: number; cap: number; auxCap: number }) {
  const k = await compileKernel(device, URL_, "main", { B: d.B, D: d.D, CAP: d.cap, AUXCAP: d.auxCap });
  return (b: { idx: GPUBuffer; dvec: GPUBuffer; W_dec: GPUBuffer; g: GPUBuffer }) =>
    k.bind([b.idx, b.dvec, b.W_dec, b.g], groupsFor(d.B * (d.cap + d.auxCap), 64));
}
