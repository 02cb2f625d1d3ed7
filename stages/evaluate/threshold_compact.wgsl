// Sparse codes of the ReLU-family activations, compacted per row: for each row of pre [rows, S],
// the latents with z = pre > 0 (standard) or pre > max(θ_j, 0) (JUMP), in latent-index order, written
// to out_idx/out_val[row*CAP + slot] (slots past the count: idx 0xffffffff, val 0); count[row] = the
// number of firing latents, which may exceed CAP (the host then recomputes that row from pre).
// One workgroup per row; each thread counts a contiguous chunk, an exclusive scan gives its offset.
// Latent slabs (stages/train/slab_plan.ts): pre holds latents [LO, LO + S) (indices and thr are global);
// APPEND (every slab after the first) continues the row's slots after count[row] and adds to it (the
// first slab already filled the slots past its own count).
override ROWS: u32;
override S: u32;
override CAP: u32;
override JUMP: bool = false;
override LO: u32 = 0u;
override APPEND: bool = false;

const WG: u32 = 256u;
const INVALID: u32 = 0xffffffffu;

@group(0) @binding(0) var<storage, read> pre: array<f32>;
@group(0) @binding(1) var<storage, read> thr: array<f32>;
@group(0) @binding(2) var<storage, read_write> out_idx: array<u32>;
@group(0) @binding(3) var<storage, read_write> out_val: array<f32>;
@group(0) @binding(4) var<storage, read_write> count: array<u32>;

var<workgroup> scan: array<u32, WG>;

// @include "../../kernels/select/workgroup_scan.wgsl"

fn fires(j: u32, v: f32) -> bool {
  if (JUMP) { return v > 0.0 && v > thr[LO + j]; }
  return v > 0.0;
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= ROWS) { return; }
  let base = row * S;
  let per = (S + WG - 1u) / WG;
  let j0 = min(lid * per, S);
  let j1 = min(j0 + per, S);
  var c = 0u;
  for (var j = j0; j < j1; j++) {
    if (fires(j, pre[base + j])) { c++; }
  }
  var before = 0u;
  if (APPEND) { before = count[row]; }
  var pos = before + scan_incl(lid, c) - c;
  let total = scan[WG - 1u];
  let out = row * CAP;
  for (var j = j0; j < j1; j++) {
    let v = pre[base + j];
    if (fires(j, v)) {
      if (pos < CAP) { out_idx[out + pos] = LO + j; out_val[out + pos] = v; }
      pos++;
    }
  }
  if (!APPEND) {
    for (var s = total + lid; s < CAP; s += WG) { out_idx[out + s] = INVALID; out_val[out + s] = 0.0; }
  }
  // every invocation has read count[row] (before the scan's barriers) by now
  if (lid == 0u) { count[row] = before + total; }
}
