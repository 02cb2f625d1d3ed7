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
override AUX: bool = false;
override WINDOW: u32 = 0u;

const WG: u32 = 64u;
const NB: u32 = 256u; // radix bins (8-bit digits): small workgroup memory, which is zeroed per workgroup
const LIST: u32 = 512u;
const INVALID: u32 = 0xffffffffu;
const N_DEAD: u32 = 2u;

@group(0) @binding(0) var<storage, read> pre: array<f32>;
@group(0) @binding(1) var<storage, read> since: array<u32>;
@group(0) @binding(2) var<storage, read> state: array<u32>;
@group(0) @binding(3) var<storage, read_write> out_idx: array<u32>;
@group(0) @binding(4) var<storage, read_write> out_val: array<f32>;

var<workgroup> hist: array<atomic<u32>, NB>;
var<workgroup> scan: array<u32, WG>;
var<workgroup> tmax: array<u32, WG>;
var<workgroup> list: array<u32, LIST>;
var<workgroup> lkey: array<u32, LIST>;
var<workgroup> lsel: array<u32, LIST>;
var<workgroup> nlist: atomic<u32>;
var<workgroup> sel: array<u32, 4>; // prefix, mask, need, done
var<workgroup> ushared: array<u32, 3>; // k, low, n

fn key_of(f: f32) -> u32 {
  if (f == 0.0) { return 0x80000000u; } // -0 and +0 tie
  let b = bitcast<u32>(f);
  if ((b & 0x80000000u) != 0u) { return ~b; }
  return b | 0x80000000u;
}

fn candidate(j: u32) -> bool {
  if (!AUX) { return true; }
  return since[j] >= WINDOW;
}

// Exclusive prefix sum of v over the workgroup (Hillis-Steele).
fn scan_excl(lid: u32, v: u32) -> u32 {
  scan[lid] = v;
  workgroupBarrier();
  for (var off = 1u; off < WG; off <<= 1u) {
    var add = 0u;
    if (lid >= off) { add = scan[lid - off]; }
    workgroupBarrier();
    scan[lid] += add;
    workgroupBarrier();
  }
  let incl = scan[lid];
  workgroupBarrier();
  return incl - v;
}

fn write(out: u32, pos: u32, j: u32, v: f32) {
  if (v > 0.0) { out_idx[out + pos] = j; out_val[out + pos] = v; }
  else { out_idx[out + pos] = INVALID; out_val[out + pos] = 0.0; }
}

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let row = wid.x;
  let base = row * S;
  let out = OUT_BASE + row * CAP;
  if (AUX && state[N_DEAD] == 0u) { return; }
  // 1. Per-invocation maxima and the lower bound.
  var mx = 0u;
  for (var j = lid; j < S; j += WG) {
    if (candidate(j)) { mx = max(mx, key_of(pre[base + j])); }
  }
  tmax[lid] = mx;
  if (lid == 0u) {
    var k = min(K, S);
    if (AUX) { k = min(k, state[N_DEAD]); }
    ushared[0] = k;
    ushared[1] = 0u;
    atomicStore(&nlist, 0u);
    // Fallback (fewer candidates than k): take every candidate, lowest indices first.
    sel[0] = 0u; sel[1] = 0u; sel[2] = k; sel[3] = 1u;
  }
  workgroupBarrier();
  let k = ushared[0];
  if (k > 0u && k <= WG) {
    var rank = 0u;
    for (var t = 0u; t < WG; t++) {
      let o = tmax[t];
      if (o > mx || (o == mx && t < lid)) { rank++; }
    }
    if (rank == k - 1u) { ushared[1] = mx; }
  }
  let low = workgroupUniformLoad(&ushared[1]);
  // 2. Candidates ≥ low into the list.
  if (k > 0u) {
    for (var j = lid; j < S; j += WG) {
      if (candidate(j)) {
        let kk = key_of(pre[base + j]);
        if (kk >= low) {
          let p = atomicAdd(&nlist, 1u);
          if (p < LIST) { list[p] = j; lkey[p] = kk; }
        }
      }
    }
  }
  workgroupBarrier();
  if (lid == 0u) { ushared[2] = atomicLoad(&nlist); }
  let n = workgroupUniformLoad(&ushared[2]);
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
        if (use_list) { kk = lkey[j]; } else { ok = candidate(j); kk = key_of(pre[base + j]); }
        if (ok && kk >= low && (kk & pmask) == prefix) { atomicAdd(&hist[(kk >> shift) & dmask], 1u); }
      }
      workgroupBarrier();
      // Inclusive suffix sums of per-invocation bin blocks: scan[t] = count in bins >= t*per.
      let per = nb / WG;
      var s = 0u;
      for (var i = 0u; i < per; i++) { s += atomicLoad(&hist[lid * per + i]); }
      scan[lid] = s;
      workgroupBarrier();
      for (var off = 1u; off < WG; off <<= 1u) {
        var add = 0u;
        if (lid + off < WG) { add = scan[lid + off]; }
        workgroupBarrier();
        scan[lid] += add;
        workgroupBarrier();
      }
      var above = 0u;
      if (lid + 1u < WG) { above = scan[lid + 1u]; }
      if (above < need && need <= scan[lid]) {
        var b = lid * per + per - 1u;
        loop {
          let c = atomicLoad(&hist[b]);
          if (above + c >= need || b == lid * per) { break; }
          above += c;
          b -= 1u;
        }
        let rest = need - above;
        sel[0] = prefix | (b << shift);
        sel[1] = pmask | (dmask << shift);
        sel[2] = rest;
        sel[3] = select(0u, 1u, atomicLoad(&hist[b]) == rest);
      }
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
    workgroupBarrier();
    for (var j = lid; j < n; j += WG) {
      if (lsel[j] == 1u) {
        var pos = 0u;
        for (var q = 0u; q < n; q++) { if (lsel[q] == 1u && list[q] < list[j]) { pos++; } }
        write(out, pos, list[j], pre[base + list[j]]);
      }
    }
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
        let mj = key_of(pre[base + j]) & pmask;
        if (mj > prefix) { na++; } else if (mj == prefix) { ne++; }
      }
    }
    let eq_before = scan_excl(lid, ne);
    let take_eq = min(ne, need - min(need, eq_before));
    var pos = scan_excl(lid, na + take_eq);
    var taken = 0u;
    for (var j = j0; j < j1; j++) {
      if (candidate(j)) {
        let v = pre[base + j];
        let mj = key_of(v) & pmask;
        var take = mj > prefix;
        if (!take && mj == prefix && taken < take_eq) { take = true; taken++; }
        if (take) { write(out, pos, j, v); pos++; }
      }
    }
  }
  if (!AUX) {
    for (var s = k + lid; s < CAP; s += WG) { out_idx[out + s] = INVALID; out_val[out + s] = 0.0; }
  }
}
