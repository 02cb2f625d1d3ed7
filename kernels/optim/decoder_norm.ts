/**
 * Decoder-row kernels (./decoder_norm.wgsl): row norms, removal of the gradient component
 * parallel to each row, unit-norm renormalisation, and the decoder side of the norm-scaled L1 penalty.
 */
import { compileKernel } from "../runtime/kernel.ts";

const URL_ = new URL("./decoder_norm.wgsl", import.meta.url);

export async function createDecoderNorm(device: GPUDevice, d: { D: number; S: number; B?: number }) {
  const c = { D: d.D, S: d.S, B: d.B ?? 1 };
  const [norms, project, normalize, l1] = await Promise.all(
    ["norms", "project", "normalize", "l1_grad"].map((e) => compileKernel(device, URL_, e, c)),
  );
  // Bound on first use: an entry point needs only some of the buffers (norms: wnorm, l1Grad: zsum, hyper).
  return (b: { W_dec: GPUBuffer; gW_dec?: GPUBuffer; wnorm?: GPUBuffer; zsum?: GPUBuffer; hyper?: GPUBuffer }) => {
    const all = { W_dec: b.W_dec, gW_dec: b.gW_dec, wnorm: b.wnorm, zsum: b.zsum, hyper: b.hyper };
    return {
      get norms() {
        return norms.bind(all, d.S);
      },
      get project() {
        return project.bind(all, d.S);
      },
      get normalize() {
        return normalize.bind(all, d.S);
      },
      l1Grad: b.zsum ? l1.bind(all, d.S) : undefined,
    };
  };
}
