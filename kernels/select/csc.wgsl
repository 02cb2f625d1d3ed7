// Transpose the sparse entries (token-major) into per-latent lists (latent-major, "CSC"), so the
// per-latent gradient kernel can gather without float atomics. Deterministic: tokens are split into
// chunks of CHUNK; one invocation per chunk counts and later places its entries in a fixed order, so
// each latent's list is ordered by (chunk, main-before-aux, token, slot) on every run.
//   count:       cnt[c*S + i] = entries of latent i in chunk c        (cnt cleared beforehand)
//   scan_chunks: cnt[c*S + i] ← exclusive prefix over chunks; start[i] = latent total
//   scan_total:  start[0..S] ← exclusive prefix of the totals; start[S] = all entries
//   place:       list[start[i] + cnt[c*S + i]++] = e
// With AUX_BOUND only AuxK slots < min(AUXCAP, state.n_dead) are visited (the AuxK selection fills only
// those).
override B: u32;
override S: u32;
override CAP: u32;
override AUXCAP: u32 = 0u;
override CHUNK: u32;
override AUX_BOUND: bool = false;

const INVALID: u32 = 0xffffffffu;
const WG: u32 = 64u;
const SWG: u32 = 256u;
// @include "../runtime/slots.wgsl"

@group(0) @binding(0) var<storage, read> idx: array<u32>;
@group(0) @binding(1) var<storage, read_write> cnt: array<u32>;
@group(0) @binding(2) var<storage, read_write> start: array<u32>;
@group(0) @binding(3) var<storage, read_write> list: array<u32>;
@group(0) @binding(4) var<storage, read> state: array<u32>;

fn n_chunks() -> u32 { return (B + CHUNK - 1u) / CHUNK; }

// Visit every valid entry of chunk c in the fixed order; PLACE selects the pass.
fn visit(c: u32, place: bool) {
  let t0 = c * CHUNK;
  let t1 = min(t0 + CHUNK, B);
  let cb = c * S;
  for (var t = t0; t < t1; t++) {
    for (var s = 0u; s < CAP; s++) {
      let e = t * CAP + s;
      let i = idx[e];
      if (i == INVALID) { continue; }
      if (place) { list[start[i] + cnt[cb + i]] = e; }
      cnt[cb + i] += 1u;
    }
  }
  var naux = AUXCAP;
  if (AUX_BOUND) { naux = min(AUXCAP, state[STATE_N_DEAD]); }
  for (var t = t0; t < t1; t++) {
    for (var s = 0u; s < naux; s++) {
      let e = B * CAP + t * AUXCAP + s;
      let i = idx[e];
      if (i == INVALID) { continue; }
      if (place) { list[start[i] + cnt[cb + i]] = e; }
      cnt[cb + i] += 1u;
    }
  }
}

@compute @workgroup_size(WG)
fn count(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x < n_chunks()) { visit(gid.x, false); }
}

@compute @workgroup_size(WG)
fn place(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x < n_chunks()) { visit(gid.x, true); }
}

@compute @workgroup_size(WG)
fn scan_chunks(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let i = gid.x + gid.y * nw.x * WG;
  if (i >= S) { return; }
  var run = 0u;
  for (var c = 0u; c < n_chunks(); c++) {
    let v = cnt[c * S + i];
    cnt[c * S + i] = run;
    run += v;
  }
  start[i] = run;
}

var<workgroup> scan: array<u32, SWG>;

@compute @workgroup_size(SWG)
fn scan_total(@builtin(local_invocation_index) lid: u32) {
  let per = (S + SWG - 1u) / SWG;
  let i0 = min(lid * per, S);
  let i1 = min(i0 + per, S);
  var s = 0u;
  for (var i = i0; i < i1; i++) { s += start[i]; }
  scan[lid] = s;
  workgroupBarrier();
  for (var off = 1u; off < SWG; off <<= 1u) {
    var add = 0u;
    if (lid >= off) { add = scan[lid - off]; }
    workgroupBarrier();
    scan[lid] += add;
    workgroupBarrier();
  }
  var run = scan[lid] - s;
  for (var i = i0; i < i1; i++) {
    let v = start[i];
    start[i] = run;
    run += v;
  }
  if (lid == SWG - 1u) { start[S] = scan[SWG - 1u]; }
}
