// Gradient of the loss w.r.t. each sparse entry's pre-activation: for entry e of token t and latent
// i = idx[e], g[e] = Σ_d dvec[t, d] · W_dec[i, d] (ReLU passes: every stored entry has val > 0).
// Main entries (e < B*CAP) use dvec rows [0, B) (the reconstruction gradient), AuxK entries use rows
// [B, 2B). One invocation per entry; INVALID entries get 0 and cost nothing. With AUX_BOUND, AuxK slots
// ≥ min(AUXCAP, state.n_dead) are left alone (the AuxK selection fills only the others).
// Slab mode (stages/train/slab_plan.ts): W_dec holds latents [LO, HI) only; entries of other latents
// are left alone (another pass writes them).
// Matryoshka: a main entry of latent i reads rows block_of(i)·B + t (./level_rows.wgsl).
// Scalar buffer path (any d_in); sparse_grad_tex.wgsl is the fast one.
override B: u32;
override D: u32;
override CAP: u32;
override AUXCAP: u32 = 0u;
override AUX_BOUND: bool = false;
override LO: u32 = 0u;
override HI: u32 = 0xffffffffu;

const WG: u32 = 64u;
const INVALID: u32 = 0xffffffffu;
// @include "../runtime/slots.wgsl"
// @include "level_rows.wgsl"

@group(0) @binding(0) var<storage, read> idx: array<u32>;
@group(0) @binding(1) var<storage, read> dvec: array<f32>;
@group(0) @binding(2) var<storage, read> W_dec: array<f32>;
@group(0) @binding(3) var<storage, read_write> g: array<f32>;
@group(0) @binding(4) var<storage, read> state: array<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let e = gid.x + gid.y * nw.x * WG;
  let main_n = B * CAP;
  if (e >= main_n + B * AUXCAP) { return; }
  if (AUX_BOUND && e >= main_n && (e - main_n) % AUXCAP >= min(AUXCAP, state[STATE_N_DEAD])) { return; }
  let i = idx[e];
  if (i == INVALID) { g[e] = 0.0; return; }
  if (i < LO || i >= HI) { return; }
  var dv: u32;
  if (e < main_n) { dv = (block_of(i) * B + e / CAP) * D; } else { dv = (B + (e - main_n) / AUXCAP) * D; }
  let r = (i - LO) * D;
  var acc = 0.0;
  for (var d = 0u; d < D; d++) { acc += dvec[dv + d] * W_dec[r + d]; }
  g[e] = acc;
}
