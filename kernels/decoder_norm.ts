/**
 * Decoder-row kernels (kernels/decoder_norm.wgsl): row norms, removal of the gradient component
 * parallel to each row, unit-norm renormalisation, and the decoder side of the norm-scaled L1 penalty.
 */
import { compileKernel } from "./kernel.ts";

const URL_ = new URL("./decoder_norm.wgsl", import.meta.url);

export async function createDecoderNorm(device: GPUDevice, d: { D: number; S: number; B?: number }) {
  const c = { D: d.D, S: d.S, B: d.B ?? 1 };
  const [norms, project, normalize, l1] = await Promise.all(
    ["norms", "project", "normalize", "l1_grad"].map((e) => compileKernel(device, URL_, e, c)),
  );
  return (b: { W_dec: GPUBuffer; gW_dec?: GPUBuffer; wnorm?: GPUBuffer; zsum?: GPUBuffer; hyper?: GPUBuffer }) => ({
    norms: norms.bind([b.W_dec, b.gW_dec, b.wnorm], d.S),
    project: project.bind([b.W_dec, b.gW_dec], d.S),
    normalize: normalize.bind([b.W_dec, b.gW_dec], d.S),
    l1Grad: b.zsum ? l1.bind([b.W_dec, b.gW_dec, , b.zsum, b.hyper], d.S) : undefined,
  });
}

/**
 * Float64 reference of the four entry points on W_dec [S, D] and its gradient g [S, D]:
 *   wnorm_i = ‖w_i‖;  project: g_i − (g_i·w_i/‖w_i‖²)·w_i;  normalize: w_i/‖w_i‖;
 *   l1Grad: g_i + (l1/B)·zsum_i·w_i/‖w_i‖.
 */
export function decoderNormReference(
  W_dec: ArrayLike<number>,
  g: ArrayLike<number>,
  d: { D: number; S: number; B?: number; l1?: number; zsum?: ArrayLike<number> },
) {
  const { D, S } = d;
  const wnorm = new Float64Array(S);
  const projected = Float64Array.from(g);
  const normalized = Float64Array.from(W_dec);
  const l1Grad = Float64Array.from(g);
  for (let i = 0; i < S; i++) {
    let ww = 0;
    let gw = 0;
    for (let k = 0; k < D; k++) {
      ww += W_dec[i * D + k] ** 2;
      gw += W_dec[i * D + k] * g[i * D + k];
    }
    const n = Math.sqrt(ww);
    wnorm[i] = n;
    const c = (d.l1 ?? 0) / (d.B ?? 1) * (d.zsum?.[i] ?? 0) / n;
    for (let k = 0; k < D; k++) {
      projected[i * D + k] -= gw / ww * W_dec[i * D + k];
      normalized[i * D + k] /= n;
      l1Grad[i * D + k] += c * W_dec[i * D + k];
    }
  }
  return { wnorm, projected, normalized, l1Grad };
}
