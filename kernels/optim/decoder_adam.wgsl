// Adam on the decoder W_dec [S, D], one workgroup per latent row w_i, fused with the row operations
// that surround it in a step (one pass over W_dec, m, v and the gradient instead of three):
//   PROJECT:   g_i ← g_i − (g_i·w_i / ‖w_i‖²) w_i   (drop the gradient parallel to the row; written back)
//   Adam:      g = g_i·clip;  m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²;
//              w_i −= (lr / bc1) · m / (sqrt(v) / sqrt(bc2) + ε)          (as adam.wgsl)
//   NORMALIZE: w_i ← w_i / ‖w_i‖                   (unit-norm decoder rows after the step)
// Each stage is the arithmetic of decoder_norm.wgsl project → adam.wgsl → decoder_norm.wgsl normalize
// (row sums in another order, so not bit-identical to them). PROJECT must be off when
// the gradient norm is clipped (the clip factor needs the projected gradient before Adam runs).
// Template (kernels/runtime/unroll.ts): V4 = 1 makes an element a vec4 (d_in % 4 == 0: lavapipe moves 4
// floats per lane and buffer access), V4 = 0 a scalar. D counts elements per row.
// @unroll(u, V4)
alias V = vec4<f32>;
fn dot_(a: V, b: V) -> f32 { return dot(a, b); }
// @end
// @unroll(u, 1 - V4)
alias V = f32;
fn dot_(a: V, b: V) -> f32 { return a * b; }
// @end
override D: u32;
override S: u32;
override PROJECT: bool = true;
override NORMALIZE: bool = true;

// Invocations per row (the wrapper sets 8). Few: each barrier costs a coroutine switch per SIMD group
// on lavapipe, and 8 (one SIMD group) measured 2-4x faster there than 32-128; GPUs stay correct.
override WG: u32 = 8u;

@group(0) @binding(0) var<storage, read_write> gW_dec: array<V>;
@group(0) @binding(1) var<storage, read> hyper: array<f32>;
@group(0) @binding(2) var<storage, read> state: array<f32>;
@group(0) @binding(3) var<storage, read_write> W_dec: array<V>;
@group(0) @binding(4) var<storage, read_write> m: array<V>;
@group(0) @binding(5) var<storage, read_write> v: array<V>;

var<workgroup> red: array<vec2<f32>, WG>;

// @include "adam_update.wgsl"

// Sum of s over the workgroup, in every invocation: each adds the WG partials in the same order (two
// barriers; a tree would take log2(WG) + 1).
fn reduce(lid: u32, s: vec2<f32>) -> vec2<f32> {
  red[lid] = s;
  workgroupBarrier();
  var r = vec2<f32>(0.0, 0.0);
  for (var t = 0u; t < WG; t++) { r += red[t]; }
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = wid.x + wid.y * nw.x;
  if (i >= S) { return; }
  let o = i * D;
  var c = 0.0; // the gradient's component along the row, over ‖w‖²
  if (PROJECT) {
    var s = vec2<f32>(0.0, 0.0);
    for (var d = lid; d < D; d += WG) {
      let w = W_dec[o + d];
      s.x += dot_(w, w);
      s.y += dot_(w, gW_dec[o + d]);
    }
    let r = reduce(lid, s);
    c = r.y / max(r.x, 1e-30);
  }
  let h = adam_hyper();
  let clip = state[STATE_CLIP];
  var ww = 0.0;
  for (var d = lid; d < D; d += WG) {
    let j = o + d;
    let w0 = W_dec[j];
    var gp = gW_dec[j];
    if (PROJECT) {
      gp -= c * w0;
      gW_dec[j] = gp;
    }
    let w = w0 - adam_step(h, j, gp * clip);
    W_dec[j] = w;
    ww += dot_(w, w);
  }
  if (NORMALIZE) {
    let inv = 1.0 / max(sqrt(reduce(lid, vec2<f32>(ww, 0.0)).x), 1e-30);
    for (var d = lid; d < D; d += WG) { W_dec[o + d] *= inv; }
  }
}
