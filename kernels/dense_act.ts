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

/**
 * Float64 reference of forward, latent_stats and backward (formulas in dense_act.wgsl) on pre [B, S],
 * the upstream gradient dz [B, S], log thresholds, decoder norms, the sparsity coefficient and the
 * dead-latent clocks. rowstats holds only the slots forward writes (2 L0, 3 L1, 5 penalty).
 */
export function denseActReference(
  d: { B: number; S: number; jump: boolean; bandwidth: number },
  pre: ArrayLike<number>,
  dz: ArrayLike<number>,
  logThr: ArrayLike<number>,
  wnorm: ArrayLike<number>,
  coef: number,
  since: ArrayLike<number>,
) {
  const { B, S, jump, bandwidth: eps } = d;
  const z = new Float64Array(B * S);
  const dpre = new Float64Array(B * S);
  const rowstats = new Float64Array(B * 8);
  const gbEnc = new Float64Array(S);
  const zsum = new Float64Array(S);
  const glog = new Float64Array(S);
  const sinceOut = new Uint32Array(S);
  for (let i = 0; i < S; i++) {
    const th = Math.exp(logThr[i]);
    for (let t = 0; t < B; t++) {
      const j = t * S + i;
      const p = pre[j];
      const v = p > 0 && !(jump && p <= th) ? p : 0;
      z[j] = v;
      if (v > 0) {
        rowstats[t * 8 + 2] += 1;
        rowstats[t * 8 + 3] += v;
        rowstats[t * 8 + 5] += jump ? 1 : v * wnorm[i];
      }
      if (p > 0) dpre[j] = jump ? (p > th ? dz[j] : 0) : dz[j] + coef / B * wnorm[i];
      gbEnc[i] += dpre[j];
      zsum[i] += v;
      if (jump && Math.abs((p - th) / eps) < 0.5) glog[i] += th * (-(th / eps) * dz[j] - coef / B / eps);
    }
    sinceOut[i] = zsum[i] > 0 ? 0 : Math.min(since[i] + B, 0xf0000000);
  }
  return { z, dpre, rowstats, gbEnc, zsum, glog, since: sinceOut };
}
