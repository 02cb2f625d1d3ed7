/** gb_dec = Σ_t dvec[t] − W_enc·gb_enc (kernels/bdec_grad.wgsl). */
import { compileKernel } from "./kernel.ts";

const URL_ = new URL("./bdec_grad.wgsl", import.meta.url);

export async function createBdecGrad(device: GPUDevice, d: { B: number; D: number; S: number }) {
  if (d.D > device.limits.maxComputeWorkgroupsPerDimension) throw new Error(`bdec_grad: d_in ${d.D} too large`);
  const k = await compileKernel(device, URL_, "main", { B: d.B, D: d.D, S: d.S });
  return (b: { dvec: GPUBuffer; W_enc: GPUBuffer; gb_enc: GPUBuffer; gb_dec: GPUBuffer }) =>
    k.bind([b.dvec, b.W_enc, b.gb_enc, b.gb_dec], [d.D, 1]);
}

/** Float64 reference: gb_dec[d] = Σ_t dvec[t, d] − Σ_i W_enc[d, i]·gb_enc[i] (dvec [B, D], W_enc [D, S]). */
export function bdecGradReference(
  dvec: ArrayLike<number>,
  W_enc: ArrayLike<number>,
  gbEnc: ArrayLike<number>,
  d: { B: number; D: number; S: number },
): Float64Array {
  const out = new Float64Array(d.D);
  for (let k = 0; k < d.D; k++) {
    let s = 0;
    for (let t = 0; t < d.B; t++) s += dvec[t * d.D + k];
    for (let i = 0; i < d.S; i++) s -= W_enc[k * d.S + i] * gbEnc[i];
    out[k] = s;
  }
  return out;
}
