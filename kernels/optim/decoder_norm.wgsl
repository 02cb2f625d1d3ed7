// Decoder-row operations, one workgroup per latent row w_i = W_dec[i, :]:
//   norms:     wnorm[i] = ‖w_i‖
//   project:   g_i ← g_i − (g_i·w_i / ‖w_i‖²) w_i   (drop the gradient parallel to the row, SAELens)
//   normalize: w_i ← w_i / ‖w_i‖                   (unit-norm decoder rows after each step)
//   l1_grad:   g_i ← g_i + (l1/B) · zsum_i · w_i / ‖w_i‖ (the decoder side of Σ z_i‖w_i‖, standard SAE)
override D: u32;
override S: u32;
override B: u32 = 1u;

const WG: u32 = 64u;
// @include "../runtime/slots.wgsl"

@group(0) @binding(0) var<storage, read_write> W_dec: array<f32>;
@group(0) @binding(1) var<storage, read_write> gW_dec: array<f32>;
@group(0) @binding(2) var<storage, read_write> wnorm: array<f32>;
@group(0) @binding(3) var<storage, read> zsum: array<f32>;
@group(0) @binding(4) var<storage, read> hyper: array<f32>;

var<workgroup> red: array<vec2<f32>, WG>;

fn row_of(wid: vec3<u32>, nw: vec3<u32>) -> u32 { return wid.x + wid.y * nw.x; }

// (Σ w², Σ g·w) over the row, in every invocation.
fn sums(i: u32, lid: u32, with_g: bool) -> vec2<f32> {
  var s = vec2<f32>(0.0, 0.0);
  for (var d = lid; d < D; d += WG) {
    let w = W_dec[i * D + d];
    s.x += w * w;
    if (with_g) { s.y += w * gW_dec[i * D + d]; }
  }
  red[lid] = s;
  workgroupBarrier();
  for (var off = WG / 2u; off > 0u; off >>= 1u) {
    if (lid < off) { red[lid] += red[lid + off]; }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(WG)
fn norms(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  let i = row_of(wid, nw);
  if (i >= S) { return; }
  let s = sums(i, lid, false);
  if (lid == 0u) { wnorm[i] = sqrt(s.x); }
}

@compute @workgroup_size(WG)
fn project(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let i = row_of(wid, nw);
  if (i >= S) { return; }
  let s = sums(i, lid, true);
  let c = s.y / max(s.x, 1e-30);
  for (var d = lid; d < D; d += WG) { gW_dec[i * D + d] -= c * W_dec[i * D + d]; }
}

@compute @workgroup_size(WG)
fn normalize(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let i = row_of(wid, nw);
  if (i >= S) { return; }
  let s = sums(i, lid, false);
  let inv = 1.0 / max(sqrt(s.x), 1e-30);
  for (var d = lid; d < D; d += WG) { W_dec[i * D + d] *= inv; }
}

@compute @workgroup_size(WG)
fn l1_grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let i = row_of(wid, nw);
  if (i >= S) { return; }
  let s = sums(i, lid, false);
  let c = hyper[HYPER_SPARSITY_COEF] / f32(B) * zsum[i] / max(sqrt(s.x), 1e-30);
  for (var d = lid; d < D; d += WG) { gW_dec[i * D + d] += c * W_dec[i * D + d]; }
}
