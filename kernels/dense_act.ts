/**
 * Dense ReLU / JumpReLU activation, its per-latent statistics and backward (kernels/dense_act.wgsl),
 * for the standard and jumprelu SAEs (whose gradients are dense anyway).
 */
import { compileKernel, groupsFor } from "./kernel.ts";

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
    // Bindings each entry point references (WGSL static use ignores `if (JUMP)`).
    return {
      forward: fwd.bind([b.pre, b.z, , b.log_thr, b.wnorm, , , , , , b.rowstats], [d.B, 1]),
      stats: stats.bind(
        [b.pre, b.z, b.dz, b.log_thr, b.wnorm, b.hyper, b.gb_enc, b.zsum, b.glog, b.since],
        groupsFor(d.S, 64),
      ),
      backward: bwd.bind([b.pre, , b.dz, b.log_thr, b.wnorm, b.hyper], groupsFor(d.B * d.S, 256)),
    };
  };
}
