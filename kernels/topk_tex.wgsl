// Per-row TopK of pre-activations, texture path: the same selection as topk.wgsl (see there: K largest
// of pre[row, 0..S), ties to the lower index, latent order, val = max(pre, 0), INVALID for pre <= 0;
// AUX: only dead latents, min(K, n_dead) of them), reading pre through a row texture (4 floats a
// texel, kernels/row_texture.ts; S % 4 == 0) and doing less work per row:
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
const N_DEAD: u32 = 2u;
const NCM: u32 = 256u;
const RANK_MAX: u32 = 160u;

@group(0) @binding(0) var pre: texture_storage_2d<rgba32float, read>;
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
var<workgroup> cmax: array<u32, NCM>;
var<workgroup> clist: array<u32, NCM>;
var<workgroup> nclist: atomic<u32>;

fn key_of(f: f32) -> u32 {
  if (f == 0.0) { return 0x80000000u; } // -0 and +0 tie
  let b = bitcast<u32>(f);
  if ((b & 0x80000000u) != 0u) { return ~b; }
  return b | 0x80000000u;
}

fn texel(r: u32, q: u32) -> vec2<u32> { return vec2<u32>((r % FOLD) * QW + q, r / FOLD); }

fn pre_at(row: u32, j: u32) -> f32 { return textureLoad(pre, texel(row, j / 4u))[j % 4u]; }

// The float of a key (inverse of key_of; ±0 → +0).
fn value_of(k: u32) -> f32 {
  if ((k & 0x80000000u) != 0u) { return bitcast<f32>(k & 0x7fffffffu); }
  return bitcast<f32>(~k);
}

// Keys of texel q of a row; 0 (below every float) marks a non-candidate.
fn keys4(row: u32, q: u32) -> vec4<u32> {
  let v = textureLoad(pre, texel(row, q));
  var k = vec4<u32>(key_of(v.x), key_of(v.y), key_of(v.z), key_of(v.w));
  if (AUX) {
    let j = 4u * q;
    k = select(vec4<u32>(0u), k, vec4<bool>(since[j] >= WINDOW, since[j + 1u] >= WINDOW, since[j + 2u] >= WINDOW,
      since[j + 3u] >= WINDOW));
  }
  return k;
}

// Append latent j with key kk to the candidate list when kk >= low.
fn push(low: u32, j: u32, kk: u32) {
  if (kk >= low) {
    let p = atomicAdd(&nlist, 1u);
    if (p < LIST) { list[p] = j; lkey[p] = kk; }
  }
}

fn max4(k: vec4<u32>) -> u32 { return max(max(k.x, k.y), max(k.z, k.w)); }

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

// A workgroup takes RPW rows in turn: fewer, longer workgroups amortise the per-workgroup start
// (lavapipe zeroes workgroup memory and sets up barrier coroutines for each).
@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  if (AUX && state[N_DEAD] == 0u) { return; }
  for (var r = 0u; r < RPW; r++) {
    let row = wid.x * RPW + r;
    if (row >= ROWS) { break; }
    workgroupBarrier(); // the previous row's reads of the workgroup arrays are done
    select_row(row, lid);
  }
}

fn select_row(row: u32, lid: u32) {
  let out = OUT_BASE + row * CAP;
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
    var k = min(K, S);
    if (AUX) { k = min(k, state[N_DEAD]); }
    ushared[0] = k;
    ushared[1] = 1u;
    atomicStore(&nlist, 0u);
    atomicStore(&nclist, 0u);
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
    if (rank == k - 1u) { ushared[1] = max(mx, 1u); }
  }
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
    workgroupBarrier();
    for (var j = lid; j < n; j += WG) {
      if (lsel[j] == 1u) {
        var pos = 0u;
        for (var q = 0u; q < n; q++) { if (lsel[q] == 1u && list[q] < list[j]) { pos++; } }
        write(out, pos, list[j], value_of(lkey[j]));
      }
    }
    for (var s = min(n, k) + lid; s < k; s += WG) { out_idx[out + s] = INVALID; out_val[out + s] = 0.0; }
    if (!AUX) {
      for (var s = k + lid; s < CAP; s += WG) { out_idx[out + s] = INVALID; out_val[out + s] = 0.0; }
    }
    return;
  }
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
        write(out, pos, list[j], value_of(lkey[j]));
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
  if (!AUX) {
    for (var s = k + lid; s < CAP; s += WG) { out_idx[out + s] = INVALID; out_val[out + s] = 0.0; }
  }
}
