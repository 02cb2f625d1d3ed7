/**
 * The inner Matryoshka levels' reconstruction losses and the per-group gradient rows
 * (./matryoshka_loss.wgsl; layout of dvec in kernels/sparse/levels.ts).
 */
import { compileKernel } from "../runtime/kernel.ts";

const URL_ = new URL("./matryoshka_loss.wgsl", import.meta.url);

export async function createMatryoshkaLoss(
  device: GPUDevice,
  d: { B: number; D: number; levels: number; innerBase: number },
) {
  const k = await compileKernel(device, URL_, "main", { B: d.B, D: d.D, L_IN: d.levels, INNER_BASE: d.innerBase });
  return (b: { x: GPUBuffer; xhat_in: GPUBuffer; dvec: GPUBuffer; rowstats: GPUBuffer }) =>
    k.bind({ x: b.x, xhat_in: b.xhat_in, dvec: b.dvec, rowstats: b.rowstats }, [d.B, 1]);
}
