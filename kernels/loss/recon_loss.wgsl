// Reconstruction loss of one row per workgroup, and its gradient.
// Main (AUX = false):  r = x̂ − x;  dvec[t] = (2/B)·r;  rowstats[t*8+0] = ‖r‖², rowstats[t*8+1] = ‖x‖².
//   (loss term: mean over tokens of ‖x − x̂‖², SAELens' mse_loss.)
// AuxK (AUX = true): the dead latents' reconstruction ê (no bias) of the residual e = x − x̂;
//   scale = min(n_dead / AUX_K, 1) (SAELens), dvec[B*D + t*D + d] = (2/B)·aux_coef·scale·(ê − e),
//   rowstats[t*8+4] = ‖ê − e‖². With no dead latent the gradient is zero.
// Gated auxiliary (AUX and GATE_AUX): the gate path's reconstruction x̂_gate, stacked after x̂ in ehat
//   ([2B, D], through the frozen decoder), against x: diff = x̂_gate − x, coefficient 1 (SAELens),
//   dvec[B*D + t*D + d] = (2/B)·diff, rowstats[t*8+4] = ‖diff‖².
override B: u32;
override D: u32;
override AUX: bool = false;
override AUX_K: f32 = 1.0;
override GATE_AUX: bool = false;

// Invocations per row: one SIMD group on lavapipe, where each barrier is a coroutine switch per group
// (8 with a flat sum measured ~2x faster there than 64 with a tree).
const WG: u32 = 8u;
// @include "../runtime/slots.wgsl"

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> xhat: array<f32>;
@group(0) @binding(2) var<storage, read> ehat: array<f32>;
@group(0) @binding(3) var<storage, read> state: array<u32>;
@group(0) @binding(4) var<storage, read> hyper: array<f32>;
@group(0) @binding(5) var<storage, read_write> dvec: array<f32>;
@group(0) @binding(6) var<storage, read_write> rowstats: array<f32>;

var<workgroup> red: array<vec2<f32>, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = wid.x;
  let o = t * D;
  var s = vec2<f32>(0.0, 0.0);
  if (!AUX) {
    let g = 2.0 / f32(B);
    for (var d = lid; d < D; d += WG) {
      let xv = x[o + d];
      let r = xhat[o + d] - xv;
      dvec[o + d] = g * r;
      s += vec2<f32>(r * r, xv * xv);
    }
  } else if (GATE_AUX) {
    let g = 2.0 / f32(B);
    for (var d = lid; d < D; d += WG) {
      let diff = ehat[B * D + o + d] - x[o + d];
      dvec[B * D + o + d] = g * diff;
      s.x += diff * diff;
    }
  } else {
    let n_dead = f32(state[STATE_N_DEAD]);
    var g = 0.0;
    if (n_dead > 0.0) { g = 2.0 / f32(B) * hyper[HYPER_AUX_COEF] * min(n_dead / AUX_K, 1.0); }
    for (var d = lid; d < D; d += WG) {
      let diff = ehat[o + d] - (x[o + d] - xhat[o + d]);
      dvec[B * D + o + d] = g * diff;
      s.x += diff * diff;
    }
  }
  red[lid] = s;
  workgroupBarrier();
  if (lid == 0u) {
    var r = vec2<f32>(0.0, 0.0);
    for (var u = 0u; u < WG; u++) { r += red[u]; }
    if (!AUX) {
      rowstats[t * 8u + 0u] = r.x;
      rowstats[t * 8u + 1u] = r.y;
    } else {
      rowstats[t * 8u + 4u] = r.x;
    }
  }
}
