// Matryoshka reconstruction losses of the inner prefix levels, one workgroup per row t
// (Bussmann et al. 2025; the full SAE's level is recon_loss.wgsl's main term):
//   inner level m (0 ≤ m < L_IN) reconstructs x̂_m = b_dec + Σ_{latents i < MW_m} val·W_dec[i] (sparse
//   decode with idxLimit, stacked in xhat_in rows m·B + t);  r_m = x̂_m − x
//   rowstats[t*8+5] = Σ_m ‖r_m‖²  (the metrics pass adds it to the loss with coefficient hyper.sparsity = 1)
//   D_{L_IN} = dvec rows [0, B) (the full level's gradient);  D_m = D_{m+1} + (2/B)·r_m
//   dvec rows (INNER_BASE + m)·B + t = D_m: the gradient a latent of prefix group m receives
//   (kernels/sparse/level_rows.wgsl).
override B: u32;
override D: u32;
override L_IN: u32;
override INNER_BASE: u32;

const WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> xhat_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> dvec: array<f32>;
@group(0) @binding(3) var<storage, read_write> rowstats: array<f32>;

var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = wid.x;
  let g = 2.0 / f32(B);
  var ss = 0.0;
  for (var d = lid; d < D; d += WG) {
    let xv = x[t * D + d];
    var acc = dvec[t * D + d];
    for (var j = 0u; j < L_IN; j++) {
      let m = L_IN - 1u - j;
      let r = xhat_in[(m * B + t) * D + d] - xv;
      ss += r * r;
      acc += g * r;
      dvec[((INNER_BASE + m) * B + t) * D + d] = acc;
    }
  }
  red[lid] = ss;
  workgroupBarrier();
  for (var off = WG / 2u; off > 0u; off >>= 1u) {
    if (lid < off) { red[lid] += red[lid + off]; }
    workgroupBarrier();
  }
  if (lid == 0u) { rowstats[t * 8u + 5u] = red[0]; }
}
