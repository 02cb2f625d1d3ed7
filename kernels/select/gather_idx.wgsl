// Candidate positions → latent indices, after a TopK over merged slab candidates (./slab_merge.ts):
// for entry e = OUT_BASE + row*CAP + s, idx[e] = cand_idx[row*C + idx[e]] unless INVALID.
// AUX_BOUND: only slots s < min(CAP, state.n_dead) (the AuxK merge writes no others).
override ROWS: u32;
override CAP: u32;
override C: u32;
override OUT_BASE: u32 = 0u;
override AUX_BOUND: bool = false;

const WG: u32 = 64u;
const INVALID: u32 = 0xffffffffu;
// @include "../runtime/slots.wgsl"

@group(0) @binding(0) var<storage, read> cand_idx: array<u32>;
@group(0) @binding(1) var<storage, read_write> idx: array<u32>;
@group(0) @binding(2) var<storage, read> state: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let n = gid.x + gid.y * nw.x * WG;
  if (n >= ROWS * CAP) { return; }
  if (AUX_BOUND && n % CAP >= min(CAP, state[STATE_N_DEAD])) { return; }
  let e = OUT_BASE + n;
  let j = idx[e];
  if (j != INVALID) { idx[e] = cand_idx[(n / CAP) * C + j]; }
}
