// Per-row TopK of pre-activations: for each row, the K largest of pre[row, 0..S) (ties: lower index),
// written in latent-index order to idx/val[OUT_BASE + row*CAP + slot]; val = max(pre, 0) and entries
// with pre <= 0 are marked INVALID (ReLU after TopK, as SAELens). Slots past K are INVALID.
// AUX = true restricts the candidates to dead latents (since[i] >= WINDOW) and takes
// min(K, n_dead) of them (the AuxK selection); its slots >= min(K, n_dead) are not written (the AuxK
// consumers read only the others) and with n_dead = 0 it returns at once.
// Method (one workgroup per row, deterministic, no output atomics):
//  1. a lower bound L of the k-th largest: the k-th largest of the per-invocation maxima (k ≤ WG);
//  2. the few candidates ≥ L go to a workgroup list (fallback to the whole row if it overflows);
//  3. radix select on order-preserving u32 keys (four 8-bit digits, a histogram per digit, stopping
//     once the boundary bin is taken whole) over that list;
//  4. each selected entry's slot = its rank by latent index among the selected.
override S: u32;
override CAP: u32;
override K: u32;
override OUT_BASE: u32 = 0u;
// Slab mode (stages/train/slab_plan.ts): output row stride (default CAP), a latent offset added to the
// written indices, and the offset of this slab's latents in `since`.
override ROW_STRIDE: u32 = CAP;
override IDX_BASE: u32 = 0u;
override SINCE_BASE: u32 = 0u;
override AUX: bool = false;
override WINDOW: u32 = 0u;

const WG: u32 = 64u;
const NB: u32 = 256u; // radix bins (8-bit digits): small workgroup memory, which is zeroed per workgroup
const LIST: u32 = 512u;
const INVALID: u32 = 0xffffffffu;
// @include "../runtime/slots.wgsl"

@group(0) @binding(0) var<storage, read> pre: array<f32>;
@group(0) @binding(1) var<storage, read> since: array<u32>;
@group(0) @binding(2) var<storage, read> state: array<u32>;
@group(0) @binding(3) var<storage, read_write> out_idx: array<u32>;
@group(0) @binding(4) var<storage, read_write> out_val: array<f32>;


// @include "topk_select.wgsl"

fn pre_at(row: u32, j: u32) -> f32 { return pre[row * S + j]; }

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x;
  let base = row * S;
  let out = OUT_BASE + row * ROW_STRIDE;
  if (AUX && state[STATE_N_DEAD] == 0u) { return; }
  // 1. Per-invocation maxima and the lower bound.
  var mx = 0u;
  for (var j = lid; j < S; j += WG) {
    if (candidate(j)) { mx = max(mx, key_of(pre[base + j])); }
  }
  tmax[lid] = mx;
  if (lid == 0u) {
    let k = row_k();
    ushared[0] = k;
    ushared[1] = 0u;
    atomicStore(&nlist, 0u);
    // Fallback (fewer candidates than k): take every candidate, lowest indices first.
    sel[0] = 0u; sel[1] = 0u; sel[2] = k; sel[3] = 1u;
  }
  workgroupBarrier();
  let k = ushared[0];
  if (k > 0u && k <= WG && rank_of_max(lid, mx) == k - 1u) { ushared[1] = mx; }
  let low = workgroupUniformLoad(&ushared[1]);
  // 2. Candidates ≥ low into the list.
  if (k > 0u) {
    for (var j = lid; j < S; j += WG) {
      if (candidate(j)) { push(low, j, key_of(pre[base + j])); }
    }
  }
  workgroupBarrier();
  if (lid == 0u) { ushared[2] = atomicLoad(&nlist); }
  let n = workgroupUniformLoad(&ushared[2]);
  // 3, 4. Radix select and the write in latent order (topk_select.wgsl).
  select_listed(row, out, lid, k, low, n);
}
