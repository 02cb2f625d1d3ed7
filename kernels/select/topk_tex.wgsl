// Per-row TopK of pre-activations, texture path: the same selection as topk.wgsl (see there: K largest
// of pre[row, 0..S), ties to the lower index, latent order, val = max(pre, 0), INVALID for pre <= 0;
// AUX: only dead latents, min(K, n_dead) of them), reading pre through a row texture (4 floats a
// texel, kernels/runtime/row_texture.ts; S % 4 == 0) and doing less work per row:
//  1. per chunk of CHQ texels its max key (kept in workgroup memory), per invocation its max; the
//     lower bound L = the k-th largest invocation max (k <= WG);
//  2. only chunks whose max >= L are read again (their texels spread over the invocations), keys >= L
//     go to the workgroup list;
//  3. up to RANK_MAX candidates: the top k by counting, for each candidate, the candidates ranked
//     above it; more: radix select as in topk.wgsl (or the whole row if the list overflows);
//  4. each selected entry's slot = its rank by latent index among the selected.
// A workgroup handles RPW rows in turn. In AUX mode slots >= min(K, n_dead) are not written (the AuxK
// consumers read only the others), and with n_dead = 0 the kernel returns at once. Barriers are costly
// on lavapipe (a coroutine switch per SIMD group): the fast path keeps them few.
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
override FOLD: u32 = 1u;
override ROWS: u32;
override RPW: u32 = 1u;
override QW: u32 = S / 4u;
// Texels per chunk: at least 8, and at most NCM chunks per row.
override CHQ: u32 = max(8u, (QW + NCM - 1u) / NCM);
override NCHUNK: u32 = (QW + CHQ - 1u) / CHQ;

const WG: u32 = 64u;
const NB: u32 = 256u; // radix bins (8-bit digits): small workgroup memory, which is zeroed per workgroup
const LIST: u32 = 256u;
const INVALID: u32 = 0xffffffffu;
// @include "../runtime/slots.wgsl"
const NCM: u32 = 256u;
const RANK_MAX: u32 = 160u;

@group(0) @binding(0) var pre: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var<storage, read> since: array<u32>;
@group(0) @binding(2) var<storage, read> state: array<u32>;
@group(0) @binding(3) var<storage, read_write> out_idx: array<u32>;
@group(0) @binding(4) var<storage, read_write> out_val: array<f32>;

var<workgroup> cmax: array<u32, NCM>;
var<workgroup> clist: array<u32, NCM>;
var<workgroup> nclist: atomic<u32>;

// @include "topk_select.wgsl"

// @include "../runtime/row_texel.wgsl"

fn pre_at(row: u32, j: u32) -> f32 { return textureLoad(pre, row_texel(row, j / 4u, FOLD))[j % 4u]; }

// Keys of texel q of a row; 0 (below every float) marks a non-candidate.
fn keys4(row: u32, q: u32) -> vec4<u32> {
  let v = textureLoad(pre, row_texel(row, q, FOLD));
  var k = vec4<u32>(key_of(v.x), key_of(v.y), key_of(v.z), key_of(v.w));
  if (AUX) {
    let j = 4u * q;
    k = select(vec4<u32>(0u), k, vec4<bool>(since[SINCE_BASE + j] >= WINDOW, since[SINCE_BASE + j + 1u] >= WINDOW,
      since[SINCE_BASE + j + 2u] >= WINDOW, since[SINCE_BASE + j + 3u] >= WINDOW));
  }
  return k;
}

fn max4(k: vec4<u32>) -> u32 { return max(max(k.x, k.y), max(k.z, k.w)); }


// A workgroup takes RPW rows in turn: fewer, longer workgroups amortise the per-workgroup start
// (lavapipe zeroes workgroup memory and sets up barrier coroutines for each).
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  if (AUX && state[STATE_N_DEAD] == 0u) { return; }
  for (var r = 0u; r < RPW; r++) {
    let row = wid.x * RPW + r;
    if (row >= ROWS) { break; }
    workgroupBarrier(); // the previous row's reads of the workgroup arrays are done
    select_row(row, lid);
  }
}

fn select_row(row: u32, lid: u32) {
  let out = OUT_BASE + row * ROW_STRIDE;
  // 1. Chunk maxima, per-invocation maxima and the lower bound.
  var mx = 0u;
  for (var c = lid; c < NCHUNK; c += WG) {
    var m = 0u;
    let q1 = min(c * CHQ + CHQ, QW);
    for (var q = c * CHQ; q < q1; q++) { m = max(m, max4(keys4(row, q))); }
    cmax[c] = m;
    mx = max(mx, m);
  }
  tmax[lid] = mx;
  if (lid == 0u) {
    let k = row_k();
    ushared[0] = k;
    ushared[1] = 1u;
    atomicStore(&nlist, 0u);
    atomicStore(&nclist, 0u);
    // Fallback (fewer candidates than k): take every candidate, lowest indices first.
    sel[0] = 0u; sel[1] = 0u; sel[2] = k; sel[3] = 1u;
  }
  workgroupBarrier();
  let k = ushared[0];
  if (k > 0u && k <= WG && rank_of_max(lid, mx) == k - 1u) { ushared[1] = max(mx, 1u); }
  let low = workgroupUniformLoad(&ushared[1]);
  // 2. Candidates >= low into the list: first the chunks that hold any, then their texels spread one
  //    per invocation (so every SIMD lane has work).
  if (k > 0u) {
    for (var c = lid; c < NCHUNK; c += WG) {
      if (cmax[c] >= low) { clist[atomicAdd(&nclist, 1u)] = c; }
    }
  }
  workgroupBarrier();
  let ntex = atomicLoad(&nclist) * CHQ; // after the barrier; the loop below has none, so need not be uniform
  for (var u = lid; u < ntex; u += WG) {
    let q = clist[u / CHQ] * CHQ + u % CHQ;
    if (q < QW) {
      let kk = keys4(row, q);
      push(low, 4u * q, kk.x);
      push(low, 4u * q + 1u, kk.y);
      push(low, 4u * q + 2u, kk.z);
      push(low, 4u * q + 3u, kk.w);
    }
  }
  workgroupBarrier();
  if (lid == 0u) { ushared[2] = atomicLoad(&nlist); }
  let n = workgroupUniformLoad(&ushared[2]);
  if (k > 0u && n <= RANK_MAX) {
    // 3'. Few candidates: rank each by the candidates above it (key, then lower index), keep rank < k.
    for (var j = lid; j < n; j += WG) {
      let kj = lkey[j];
      let ij = list[j];
      var r = 0u;
      for (var q = 0u; q < n; q++) {
        let kq = lkey[q];
        if (kq > kj) { r++; } else if (kq == kj && list[q] < ij) { r++; }
      }
      lsel[j] = select(0u, 1u, r < k);
    }
    write_marked(out, lid, n);
    clear_slots(out, lid, min(n, k), k);
    if (!AUX) { clear_slots(out, lid, k, CAP); }
    return;
  }
  // 3, 4. Radix select and the write in latent order (topk_select.wgsl).
  select_listed(row, out, lid, k, low, n);
}
