// BatchTopK over the per-row candidates: keep the K_TOTAL (= k · batch) largest positive values
// among the N entries val[0..N) (INVALID entries excluded), mark the rest INVALID, and track the
// smallest kept value in an exponential moving average (the inference threshold, as SAELens).
// `select` (one workgroup) finds the boundary by radix select on order-preserving keys; ties at the
// boundary are all kept. `mark` applies it; `ema` folds the minimum kept value into the threshold.
override N: u32;
override K_TOTAL: u32;
override EMA_DECAY: f32 = 0.99;

const WG: u32 = 256u;
const NB: u32 = 4096u;
const INVALID: u32 = 0xffffffffu;
// @include "../runtime/slots.wgsl"

@group(0) @binding(0) var<storage, read_write> idx: array<u32>;
@group(0) @binding(1) var<storage, read_write> val: array<f32>;
@group(0) @binding(2) var<storage, read_write> state: array<atomic<u32>>;

var<workgroup> hist: array<atomic<u32>, NB>;
var<workgroup> scan: array<u32, WG>;
var<workgroup> sel: array<u32, 4>;

// @include "float_key.wgsl"
// @include "radix_boundary.wgsl"

@compute @workgroup_size(WG)
fn select_boundary(@builtin(local_invocation_index) lid: u32) {
  if (lid == 0u) { sel[0] = 0u; sel[1] = 0u; sel[2] = K_TOTAL; sel[3] = 1u; }
  var prefix = 0u;
  var pmask = 0u;
  var need = K_TOTAL;
  workgroupBarrier();
  for (var round = 0u; round < 3u; round++) {
    var shift = 20u;
    var bits = 12u;
    if (round == 1u) { shift = 8u; }
    if (round == 2u) { shift = 0u; bits = 8u; }
    let nb = 1u << bits;
    let dmask = nb - 1u;
    for (var b = lid; b < NB; b += WG) { atomicStore(&hist[b], 0u); }
    workgroupBarrier();
    for (var j = lid; j < N; j += WG) {
      if (idx[j] != INVALID) {
        let kk = key_of(val[j]);
        if ((kk & pmask) == prefix) { atomicAdd(&hist[(kk >> shift) & dmask], 1u); }
      }
    }
    workgroupBarrier();
    radix_boundary(lid, nb, shift, prefix, pmask, need);
    let done = workgroupUniformLoad(&sel[3]);
    prefix = sel[0];
    pmask = sel[1];
    need = sel[2];
    if (done == 1u) { break; }
    if (lid == 0u) { sel[3] = 1u; }
  }
  if (lid == 0u) {
    // Lowest key kept: the boundary prefix with the undecided low bits zero.
    atomicStore(&state[STATE_BT_PREFIX], prefix & pmask);
    atomicStore(&state[STATE_BT_MIN], INVALID);
    atomicStore(&state[STATE_BT_COUNT], 0u);
  }
}

@compute @workgroup_size(WG)
fn mark(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let j = gid.x + gid.y * nw.x * WG;
  if (j >= N || idx[j] == INVALID) { return; }
  let kk = key_of(val[j]);
  if (kk < atomicLoad(&state[STATE_BT_PREFIX])) {
    idx[j] = INVALID;
    val[j] = 0.0;
  } else {
    atomicMin(&state[STATE_BT_MIN], kk);
    atomicAdd(&state[STATE_BT_COUNT], 1u);
  }
}

@compute @workgroup_size(1)
fn ema() {
  let kk = atomicLoad(&state[STATE_BT_MIN]);
  if (kk == INVALID) { return; }
  let v = bitcast<f32>(kk & 0x7fffffffu); // kept values are positive: key = bits | sign bit
  let thr = bitcast<f32>(atomicLoad(&state[STATE_BT_THR]));
  atomicStore(&state[STATE_BT_THR], bitcast<u32>(EMA_DECAY * thr + (1.0 - EMA_DECAY) * v));
}
