// Gradient w.r.t. each sparse entry's pre-activation, texture path (template: G entries per invocation,
// expanded by kernels/runtime/unroll.ts): for entry e = ENTRY_BASE + t*CAP + s of token t and latent i = idx[e],
//   g[e] = Σ_d dvec[ROW_BASE + t, d] · W_dec[i, d]
// (ReLU passes: every stored entry has val > 0). The trainer runs it for the main entries (ROW_BASE 0,
// the reconstruction gradient) and the AuxK entries (ROW_BASE = B, slots < min(CAP, state.n_dead) when
// AUX_BOUND). dvec and W_dec rows are read as rgba32float texels (kernels/runtime/row_texture.ts): each
// dvec texel is loaded once for the G entries of an invocation. INVALID entries get g = 0.
// Slab mode (stages/train/slab_plan.ts): W_dec holds latents [LO, HI) only; entries of other latents
// are left alone (another pass writes them).
// LEVELED (matryoshka, main entries): entry j reads rows block_of(i_j)·B + t (./level_rows.wgsl), one
// dvec texel per entry.
override ROWS: u32;
override D: u32;
override CAP: u32;
override ENTRY_BASE: u32 = 0u;
override ROW_BASE: u32 = 0u;
override AUX_BOUND: bool = false;
override LEVELED: bool = false;
override FOLD_G: u32 = 1u;
override FOLD_W: u32 = 1u;
override LO: u32 = 0u;
override HI: u32 = 0xffffffffu;

const WG: u32 = 64u;
const INVALID: u32 = 0xffffffffu;
// @include "../runtime/slots.wgsl"
// @include "level_rows.wgsl"
override QW: u32 = D / 4u;
override NG: u32 = (CAP + $(G)u - 1u) / $(G)u;

@group(0) @binding(0) var<storage, read> idx: array<u32>;
@group(0) @binding(1) var dvec: texture_storage_2d<rgba32float, read>;
@group(0) @binding(2) var W_dec: texture_storage_2d<rgba32float, read>;
@group(0) @binding(3) var<storage, read> state: array<u32>;
@group(0) @binding(4) var<storage, read_write> g: array<f32>;

// @include "../runtime/row_texel.wgsl"

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let n = gid.x + gid.y * nw.x * WG;
  let t = n / NG;
  if (t >= ROWS) { return; }
  let s0 = (n % NG) * $(G)u;
  var ns = CAP;
  if (AUX_BOUND) { ns = min(CAP, state[STATE_N_DEAD]); }
  if (s0 >= ns) { return; }
  let e0 = ENTRY_BASE + t * CAP + s0;
  // Entry j of this invocation: latent row (0 stands in for INVALID / out of range) and validity.
  // @unroll(j, G)
  var i_$(j) = INVALID;
  if (s0 + $(j)u < ns) { i_$(j) = idx[e0 + $(j)u]; }
  let ok_$(j) = i_$(j) != INVALID && i_$(j) >= LO && i_$(j) < HI;
  let w_$(j) = ok_$(j) || i_$(j) == INVALID;
  let r_$(j) = select(0u, i_$(j) - LO, ok_$(j));
  var acc_$(j) = vec4<f32>(0.0);
  let row_$(j) = block_of(r_$(j) + LO) * ROWS + t;
  // @end
  let row = ROW_BASE + t;
  for (var q = 0u; q < QW; q++) {
    let dv = textureLoad(dvec, row_texel(row, q, FOLD_G));
    // @unroll(j, G)
    var dv_$(j) = dv;
    if (LEVELED) { dv_$(j) = textureLoad(dvec, row_texel(row_$(j), q, FOLD_G)); }
    acc_$(j) = fma(dv_$(j), textureLoad(W_dec, row_texel(r_$(j), q, FOLD_W)), acc_$(j));
    // @end
  }
  // @unroll(j, G)
  if (s0 + $(j)u < ns && w_$(j)) { g[e0 + $(j)u] = select(0.0, (acc_$(j).x + acc_$(j).y) + (acc_$(j).z + acc_$(j).w), ok_$(j)); }
  // @end
}
