// Adam (torch.optim.Adam, no weight decay) on one parameter buffer, gradient scaled by the clip factor:
//   g = grad·clip;  m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
//   p −= (lr / bc1) · m / (sqrt(v) / sqrt(bc2) + ε),   bc1 = 1−β1^t, bc2 = 1−β2^t
// lr, β1, β2, ε, bc1, bc2 come from the per-step `hyper` buffer, clip from `state`.
// Template (kernels/runtime/unroll.ts): V4 = 1 makes an element a vec4 (n % 4 == 0; lavapipe then moves 4
// floats per lane and buffer access, ~1.8x faster), V4 = 0 a scalar. N counts elements.
// @unroll(u, V4)
alias V = vec4<f32>;
// @end
// @unroll(u, 1 - V4)
alias V = f32;
// @end
override N: u32;

const WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> grad: array<V>;
@group(0) @binding(1) var<storage, read> hyper: array<f32>;
@group(0) @binding(2) var<storage, read> state: array<f32>;
@group(0) @binding(3) var<storage, read_write> param: array<V>;
@group(0) @binding(4) var<storage, read_write> m: array<V>;
@group(0) @binding(5) var<storage, read_write> v: array<V>;

// @include "adam_update.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let j = gid.x + gid.y * nw.x * WG;
  if (j >= N) { return; }
  param[j] -= adam_step(adam_hyper(), j, grad[j] * state[STATE_CLIP]);
}
