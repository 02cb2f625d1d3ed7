// What the per-row TopK kernels (topk.wgsl, topk_tex.wgsl; method described there) share: k, the
// lower bound's rank, the candidate list, and steps 3-4 (radix select of the k-th largest listed key,
// or over the whole row if the list overflowed, then the selection written in latent order).
// The includer declares the overrides S, K, CAP, ROW_STRIDE, IDX_BASE, SINCE_BASE, AUX, WINDOW, the consts WG, NB, LIST, INVALID,
// the bindings since, state, out_idx, out_val, and `fn pre_at(row, j) -> f32` (pre[row, j]). The selection's
// workgroup storage is declared here, once for both kernels.
// @include "../runtime/slots.wgsl"
// @include "float_key.wgsl"
// @include "workgroup_scan.wgsl"
// @include "radix_boundary.wgsl"

var<workgroup> hist: array<atomic<u32>, NB>;
var<workgroup> scan: array<u32, WG>;
var<workgroup> tmax: array<u32, WG>;
var<workgroup> list: array<u32, LIST>;
var<workgroup> lkey: array<u32, LIST>;
var<workgroup> lsel: array<u32, LIST>;
var<workgroup> nlist: atomic<u32>;
var<workgroup> sel: array<u32, 4>; // prefix, mask, need, done
var<workgroup> ushared: array<u32, 3>; // k, low, n

// The row's selection size: min(K, S), and in AUX mode at most n_dead.
fn row_k() -> u32 {
  var k = min(K, S);
  if (AUX) { k = min(k, state[STATE_N_DEAD]); }
  return k;
}

// Rank of invocation lid's maximum mx among tmax[0..WG) (larger first, ties to the lower invocation).
fn rank_of_max(lid: u32, mx: u32) -> u32 {
  var rank = 0u;
  for (var t = 0u; t < WG; t++) {
    let o = tmax[t];
    if (o > mx || (o == mx && t < lid)) { rank++; }
  }
  return rank;
}

fn candidate(j: u32) -> bool {
  if (!AUX) { return true; }
  return since[SINCE_BASE + j] >= WINDOW;
}

// Append latent j with key kk to the candidate list when kk >= low.
fn push(low: u32, j: u32, kk: u32) {
  if (kk >= low) {
    let p = atomicAdd(&nlist, 1u);
    if (p < LIST) { list[p] = j; lkey[p] = kk; }
  }
}

fn write(out: u32, pos: u32, j: u32, v: f32) {
  if (v > 0.0) { out_idx[out + pos] = IDX_BASE + j; out_val[out + pos] = v; }
  else { out_idx[out + pos] = INVALID; out_val[out + pos] = 0.0; }
}

// Slots [s0, s1) of the row starting at `out` become INVALID.
fn clear_slots(out: u32, lid: u32, s0: u32, s1: u32) {
  for (var s = s0 + lid; s < s1; s += WG) { out_idx[out + s] = INVALID; out_val[out + s] = 0.0; }
}

// After a barrier: the listed entries marked in lsel, each at its rank by latent index among them.
fn write_marked(out: u32, lid: u32, n: u32) {
  workgroupBarrier();
  for (var j = lid; j < n; j += WG) {
    if (lsel[j] == 1u) {
      var pos = 0u;
      for (var q = 0u; q < n; q++) { if (lsel[q] == 1u && list[q] < list[j]) { pos++; } }
      write(out, pos, list[j], value_of(lkey[j]));
    }
  }
}

// Steps 3 and 4 for row `row` (outputs from `out`): k to select, keys >= low, n candidates listed.
fn select_listed(row: u32, out: u32, lid: u32, k: u32, low: u32, n: u32) {
  let use_list = n <= LIST;
  var m = S;
  if (use_list) { m = n; }
  // 3. Radix select of the k-th largest key.
  var prefix = 0u;
  var pmask = 0u;
  var need = k;
  if (k > 0u) {
    for (var round = 0u; round < 4u; round++) {
      let shift = 24u - 8u * round;
      let nb = NB;
      let dmask = nb - 1u;
      for (var b = lid; b < NB; b += WG) { atomicStore(&hist[b], 0u); }
      workgroupBarrier();
      for (var j = lid; j < m; j += WG) {
        var kk = 0u;
        var ok = true;
        if (use_list) { kk = lkey[j]; } else { ok = candidate(j); kk = key_of(pre_at(row, j)); }
        if (ok && kk >= low && (kk & pmask) == prefix) { atomicAdd(&hist[(kk >> shift) & dmask], 1u); }
      }
      workgroupBarrier();
      radix_boundary(lid, nb, shift, prefix, pmask, need);
      let done = workgroupUniformLoad(&sel[3]);
      prefix = sel[0];
      pmask = sel[1];
      need = sel[2];
      if (done == 1u) { break; }
      workgroupBarrier();
      if (lid == 0u) { sel[3] = 1u; } // stays the fallback if the next round finds no boundary
    }
  }
  // 4. Write the selection in latent order.
  if (k > 0u && use_list) {
    // Selected: key above the boundary prefix, or equal to it and among the first `need` by index.
    for (var j = lid; j < n; j += WG) {
      let mj = lkey[j] & pmask;
      var s = 0u;
      if (mj > prefix) { s = 1u; } else if (mj == prefix) {
        var r = 0u;
        for (var q = 0u; q < n; q++) { if ((lkey[q] & pmask) == prefix && list[q] < list[j]) { r++; } }
        s = select(0u, 1u, r < need);
      }
      lsel[j] = s;
    }
    write_marked(out, lid, n);
  }
  if (k > 0u && !use_list) {
    // Whole-row fallback: contiguous chunks per invocation and prefix sums keep index order.
    let per = (S + WG - 1u) / WG;
    let j0 = min(lid * per, S);
    let j1 = min(j0 + per, S);
    var na = 0u;
    var ne = 0u;
    for (var j = j0; j < j1; j++) {
      if (candidate(j)) {
        let mj = key_of(pre_at(row, j)) & pmask;
        if (mj > prefix) { na++; } else if (mj == prefix) { ne++; }
      }
    }
    let eq_before = scan_excl(lid, ne);
    let take_eq = min(ne, need - min(need, eq_before));
    var pos = scan_excl(lid, na + take_eq);
    var taken = 0u;
    for (var j = j0; j < j1; j++) {
      if (candidate(j)) {
        let v = pre_at(row, j);
        let mj = key_of(v) & pmask;
        var take = mj > prefix;
        if (!take && mj == prefix && taken < take_eq) { take = true; taken++; }
        if (take) { write(out, pos, j, v); pos++; }
      }
    }
  }
  if (!AUX) { clear_slots(out, lid, k, CAP); }
}
