/**
 * Dense ReLU / JumpReLU activation, its per-latent statistics and backward (./dense_act.wgsl),
 * for the standard and jumprelu SAEs (whose gradients are dense anyway).
 */
import { compileKernel, groupsFor } from "../runtime/kernel.ts";

const URL_ = new URL("./dense_act.wgsl", import.meta.url);

export async function createDenseAct(device: GPUDevice, d: { B: number; S: number; jump: boolean; bandwidth: number }) {
  const c = { B: d.B, S: d.S, JUMP: d.jump, BANDWIDTH: d.bandwidth };
  const [fwd, stats, bwd] = await Promise.all(
    ["forward", "latent_stats", "backward"].map((e) => compileKernel(device, URL_, e, c)),
  );
  return (b: {
    pre: GPUBuffer;
    z: GPUBuffer;
    dz: GPUBuffer;
    log_thr: GPUBuffer;
    wnorm: GPUBuffer;
    hyper: GPUBuffer;
    gb_enc: GPUBuffer;
    zsum: GPUBuffer;
    glog: GPUBuffer;
    since: GPUBuffer;
    rowstats: GPUBuffer;
  }) => {
    const { pre, z, dz, log_thr, wnorm, hyper, gb_enc, zsum, glog, since, rowstats } = b;
    const all = { pre, z, dz, log_thr, wnorm, hyper, gb_enc, zsum, glog, since, rowstats };
    // each entry point binds the ones it uses (by name, ../runtime/bindings.ts)
    return {
      forward: fwd.bind(all, [d.B, 1]),
      stats: stats.bind(all, groupsFor(d.S, 64)),
      backward: bwd.bind(all, groupsFor(d.B * d.S, 256)),
    };
  };
}
