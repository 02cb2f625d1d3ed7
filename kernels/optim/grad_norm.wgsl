// Global gradient norm for clipping (torch clip_grad_norm_): ‖g‖ = sqrt(Σ over every gradient buffer
// of Σ g²); clip scale = min(1, MAX_NORM / (‖g‖ + 1e-6)) stored in state (read by Adam).
// `partial`: PARTS workgroups write their sums of squares of one buffer to partials[OFFSET + w].
// `finish`: one workgroup adds partials[0..TOTAL) in a fixed order.
override N: u32 = 1u;
override OFFSET: u32 = 0u;
override TOTAL: u32 = 1u;
override MAX_NORM: f32 = 1.0;

const WG: u32 = 256u;
// @include "../runtime/slots.wgsl"

@group(0) @binding(0) var<storage, read> grad: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;

var<workgroup> red: array<f32, WG>;

fn reduce(lid: u32) {
  workgroupBarrier();
  for (var off = WG / 2u; off > 0u; off >>= 1u) {
    if (lid < off) { red[lid] += red[lid + off]; }
    workgroupBarrier();
  }
}

@compute @workgroup_size(WG)
fn partial(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  let stride = nw.x * WG;
  for (var j = wid.x * WG + lid; j < N; j += stride) { let v = grad[j]; s += v * v; }
  red[lid] = s;
  reduce(lid);
  if (lid == 0u) { partials[OFFSET + wid.x] = red[0]; }
}

@group(0) @binding(0) var<storage, read> parts: array<f32>;
@group(0) @binding(1) var<storage, read_write> state: array<f32>;

@compute @workgroup_size(WG)
fn finish(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var j = lid; j < TOTAL; j += WG) { s += parts[j]; }
  red[lid] = s;
  reduce(lid);
  if (lid == 0u) {
    let norm = sqrt(red[0]);
    state[STATE_GRAD_NORM] = norm;
    state[STATE_CLIP] = min(1.0, MAX_NORM / (norm + 1e-6));
  }
}
