// Dense activations for the standard (ReLU + L1) and JumpReLU SAEs, on one tile pre [ROWS, S]: batch rows
// [ROW0, ROW0 + ROWS) × latents [LO, LO + S) (the whole step is one tile; stages/train/dense_tiles.ts cuts
// more). Per-latent vectors (log_thr, wnorm, gb_enc, zsum, glog, since) are indexed LO + i.
//   forward (one workgroup per tile row):
//     standard: z = ReLU(pre);  jumprelu: z = ReLU(pre)·H(ReLU(pre) − θ),  θ_i = exp(log_threshold_i)
//     rowstats[t*8+2] = L0, [t*8+3] = L1 = Σ z, [t*8+5] = penalty: Σ_i z_i‖W_dec_i‖ (standard) or L0 (jumprelu)
//     (ROW_ACC adds the tile's share: the row's later slabs; ROW_STATS false writes none: a recompute)
//   latent_stats (one invocation per latent, over the tile's rows), with u = (pre − θ)/ε and the rectangle
//   kernel K(u) = 1 for |u| < ½ (straight-through estimator, Rajamanoharan et al. 2024; SAELens Step/
//   JumpReLU: on the raw pre-activation, so a θ below ε/2 does not count every negative pre):
//     gb_enc_i = Σ_t dpre_ti;  zsum_i = Σ_t z_ti;  since_i (dead-latent clock)
//     jumprelu: ∂L/∂θ_i = Σ_t [−(θ_i/ε)·K(u)·dz_ti − (l0/B)·(1/ε)·K(u)];  glog_i = θ_i·∂L/∂θ_i
//     (LAT_ACC adds to the sums: the latent's later chunks; the clock then only resets when the tile fires)
//   backward (elementwise, in place dz → dpre):
//     standard: dpre = (dz + (l1/B)·‖W_dec_i‖)·[pre > 0];  jumprelu: dpre = dz·[pre > θ_i]·[pre > 0]
// @include "./dense_tile.wgsl"
override JUMP: bool = false;
override BANDWIDTH: f32 = 0.001;

const WG: u32 = 64u;
// @include "../runtime/slots.wgsl"

@group(0) @binding(0) var<storage, read> pre: array<f32>;
@group(0) @binding(1) var<storage, read_write> z: array<f32>;
@group(0) @binding(2) var<storage, read_write> dz: array<f32>;
@group(0) @binding(3) var<storage, read> log_thr: array<f32>;
@group(0) @binding(4) var<storage, read> wnorm: array<f32>;
@group(0) @binding(5) var<storage, read> hyper: array<f32>;
@group(0) @binding(6) var<storage, read_write> gb_enc: array<f32>;
@group(0) @binding(7) var<storage, read_write> zsum: array<f32>;
@group(0) @binding(8) var<storage, read_write> glog: array<f32>;
@group(0) @binding(9) var<storage, read_write> since: array<u32>;
@group(0) @binding(10) var<storage, read_write> rowstats: array<f32>;

var<workgroup> red: array<vec3<f32>, WG>;

// (i: the latent's global index)
fn act(p: f32, i: u32) -> f32 {
  let r = max(p, 0.0);
  if (JUMP && r <= exp(log_thr[i])) { return 0.0; }
  return r;
}

fn dpre_of(p: f32, g: f32, i: u32) -> f32 {
  if (p <= 0.0) { return 0.0; }
  if (JUMP) { return select(0.0, g, p > exp(log_thr[i])); }
  return g + hyper[HYPER_SPARSITY_COEF] / f32(B) * wnorm[i];
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = wid.x;
  var s = vec3<f32>(0.0, 0.0, 0.0);
  for (var i = lid; i < S; i += WG) {
    let v = act(pre[t * S + i], LO + i);
    z[t * S + i] = v;
    if (v > 0.0) {
      s.x += 1.0;
      s.y += v;
      if (!JUMP) { s.z += v * wnorm[LO + i]; }
    }
  }
  if (!ROW_STATS) { return; }
  red[lid] = s;
  workgroupBarrier();
  for (var off = WG / 2u; off > 0u; off >>= 1u) {
    if (lid < off) { red[lid] += red[lid + off]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let r = (ROW0 + t) * 8u;
    var add = vec3<f32>(red[0].x, red[0].y, select(red[0].z, red[0].x, JUMP));
    if (ROW_ACC) { add += vec3<f32>(rowstats[r + 2u], rowstats[r + 3u], rowstats[r + 5u]); }
    rowstats[r + 2u] = add.x;
    rowstats[r + 3u] = add.y;
    rowstats[r + 5u] = add.z;
  }
}

@compute @workgroup_size(WG)
fn latent_stats(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let li = gid.x + gid.y * nw.x * WG;
  if (li >= S) { return; }
  let i = LO + li;
  var gs = 0.0;
  var zs = 0.0;
  var dth = 0.0;
  var theta = 0.0;
  if (JUMP) { theta = exp(log_thr[i]); }
  let l0 = hyper[HYPER_SPARSITY_COEF] / f32(B);
  for (var t = 0u; t < ROWS; t++) {
    let p = pre[t * S + li];
    let g = dz[t * S + li];
    zs += z[t * S + li];
    gs += dpre_of(p, g, i);
    if (JUMP) {
      let u = (p - theta) / BANDWIDTH;
      if (abs(u) < 0.5) { dth += -(theta / BANDWIDTH) * g - l0 / BANDWIDTH; }
    }
  }
  if (LAT_ACC) {
    gb_enc[i] += gs;
    zsum[i] += zs;
    if (JUMP) { glog[i] += theta * dth; }
    if (zs > 0.0) { since[i] = 0u; }
    return;
  }
  gb_enc[i] = gs;
  zsum[i] = zs;
  if (JUMP) { glog[i] = theta * dth; }
  if (zs > 0.0) { since[i] = 0u; } else { since[i] = min(since[i] + B, SINCE_MAX); }
}

@compute @workgroup_size(256)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let j = gid.x + gid.y * nw.x * 256u;
  if (j >= ROWS * S) { return; }
  dz[j] = dpre_of(pre[j], dz[j], LO + j % S);
}
