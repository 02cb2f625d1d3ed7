// Sparse decode: out[t, d] = (BIAS ? b_dec[d] : 0) + Σ_s val[e] · W_dec[idx[e], d] over the CAP entries
// e = ENTRY_BASE + t*CAP + s of row t (INVALID entries skipped): only the active decoder rows are read.
// Slots s ≥ min(CAP, state.n_dead) are skipped when AUX_BOUND (the AuxK selection fills only those).
// With STATS, rowstats[t*8 + 2] = L0 (active entries) and rowstats[t*8 + 3] = L1 (Σ val).
// Slab mode (stages/train/slab_plan.ts): W_dec holds latents [LO, HI) only; entries outside are skipped
// (another pass adds them) and ACCUMULATE adds to out instead of starting from the bias.
// Matryoshka prefixes: entries with idx ≥ IDX_LIMIT are skipped too, and row t is written at out row
// OUT_ROW_BASE + t (the inner levels' reconstructions, stacked).
// This is the scalar buffer path (any d_in); sparse_decode_tex.wgsl is the fast one.
override D: u32;
override CAP: u32;
override ENTRY_BASE: u32 = 0u;
override BIAS: bool = true;
override STATS: bool = true;
override AUX_BOUND: bool = false;
override LO: u32 = 0u;
override HI: u32 = 0xffffffffu;
override ACCUMULATE: bool = false;
override IDX_LIMIT: u32 = 0xffffffffu;
override OUT_ROW_BASE: u32 = 0u;

const WG: u32 = 64u;
const INVALID: u32 = 0xffffffffu;
// @include "../runtime/slots.wgsl"

@group(0) @binding(0) var<storage, read> idx: array<u32>;
@group(0) @binding(1) var<storage, read> val: array<f32>;
@group(0) @binding(2) var<storage, read> W_dec: array<f32>;
@group(0) @binding(3) var<storage, read> b_dec: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> rowstats: array<f32>;
@group(0) @binding(6) var<storage, read> state: array<u32>;

var<workgroup> acc: array<f32, D>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = wid.x;
  let e0 = ENTRY_BASE + t * CAP;
  // The row accumulates in workgroup memory; each lane owns the dims d ≡ lid (mod WG), so the slot
  // loop is outermost (an empty slot costs one load) and W_dec rows are read contiguously.
  for (var d = lid; d < D; d += WG) {
    if (ACCUMULATE) { acc[d] = out[(OUT_ROW_BASE + t) * D + d]; } else if (BIAS) { acc[d] = b_dec[d]; } else { acc[d] = 0.0; }
  }
  var ns = CAP;
  if (AUX_BOUND) { ns = min(CAP, state[STATE_N_DEAD]); }
  for (var s = 0u; s < ns; s++) {
    let i = idx[e0 + s];
    if (i == INVALID || i < LO || i >= HI || i >= IDX_LIMIT) { continue; }
    let v = val[e0 + s];
    let r = (i - LO) * D;
    for (var d = lid; d < D; d += WG) { acc[d] += v * W_dec[r + d]; }
  }
  for (var d = lid; d < D; d += WG) { out[(OUT_ROW_BASE + t) * D + d] = acc[d]; }
  if (STATS && lid == 0u) {
    var l0 = 0.0;
    var l1 = 0.0;
    for (var s = 0u; s < ns; s++) {
      let i = idx[e0 + s];
      if (i != INVALID && i < IDX_LIMIT) { l0 += 1.0; l1 += val[e0 + s]; }
    }
    rowstats[t * 8u + 2u] = l0;
    rowstats[t * 8u + 3u] = l1;
  }
}
