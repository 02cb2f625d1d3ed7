// Per-step metrics, one workgroup, written to metrics[] (read by the host every log step):
//   0 loss      = mse + sparsity_coef·mean_t(penalty_t) + aux_coef·scale·aux_mse
//   1 mse       = mean_t ‖x_t − x̂_t‖²  (SAELens mse_loss: squared error summed over d_in, mean over tokens)
//   2 explained variance = 1 − Σ_t ‖x_t − x̂_t‖² / Σ_t ‖x_t − x̄‖²,  Σ‖x − x̄‖² = Σ‖x‖² − B‖x̄‖²
//   3 L0 = mean_t #active,  4 L1 = mean_t Σ_i z_ti
//   5 dead latents (since[i] ≥ WINDOW tokens without firing), also stored as state.n_dead for AuxK
//   6 aux loss = aux_coef · scale · mean_t ‖ê_t − e_t‖²,  scale = min(n_dead / AUX_K, 1)
//     (GATE_AUX: the gated SAE's auxiliary reconstruction, mean_t ‖x̂_gate − x‖², coefficient 1)
//   7 gradient norm (before clipping; 0 when clipping is off)
// rowstats[t*8 + ·]: 0 ‖r‖², 1 ‖x‖², 2 L0, 3 L1, 4 aux ‖ê − e‖², 5 sparsity penalty of the loss.
override B: u32;
override D: u32;
override S: u32;
override WINDOW: u32;
override AUX_K: f32 = 1.0;
override PENALTY: bool = false;
override AUX: bool = false;
override GATE_AUX: bool = false;
override DEAD: bool = true; // update state.n_dead (off for validation passes)

const WG: u32 = 256u;
// @include "../runtime/slots.wgsl"

@group(0) @binding(0) var<storage, read> rowstats: array<f32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> since: array<u32>;
@group(0) @binding(3) var<storage, read> hyper: array<f32>;
@group(0) @binding(4) var<storage, read_write> state: array<u32>;
@group(0) @binding(5) var<storage, read_write> metrics: array<f32>;

var<workgroup> red: array<array<f32, 8>, WG>;
var<workgroup> n_dead: atomic<u32>;

@compute @workgroup_size(WG)
fn main(@builtin(local_invocation_index) lid: u32) {
  var a: array<f32, 8>;
  for (var c = 0u; c < 8u; c++) { a[c] = 0.0; }
  for (var t = lid; t < B; t += WG) {
    for (var c = 0u; c < 6u; c++) { a[c] += rowstats[t * 8u + c]; }
  }
  // Σ_d (Σ_t x_td)², for the batch mean.
  for (var d = lid; d < D; d += WG) {
    var cs = 0.0;
    for (var t = 0u; t < B; t++) { cs += x[t * D + d]; }
    a[6] += cs * cs;
  }
  var dead = 0u;
  for (var i = lid; i < S; i += WG) { if (since[i] >= WINDOW) { dead++; } }
  if (lid == 0u) { atomicStore(&n_dead, 0u); }
  red[lid] = a;
  workgroupBarrier();
  atomicAdd(&n_dead, dead);
  for (var off = WG / 2u; off > 0u; off >>= 1u) {
    if (lid < off) { for (var c = 0u; c < 8u; c++) { red[lid][c] += red[lid + off][c]; } }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let r = red[0];
    let nb = f32(B);
    let nd = atomicLoad(&n_dead);
    let mse = r[0] / nb;
    let var_sum = r[1] - r[6] / nb;
    var aux = 0.0;
    if (GATE_AUX) {
      aux = r[4] / nb;
    } else if (AUX) {
      let nd_prev = f32(state[STATE_N_DEAD]); // the dead count this step's AuxK used
      aux = hyper[HYPER_AUX_COEF] * min(nd_prev / AUX_K, 1.0) * r[4] / nb;
    }
    var pen = 0.0;
    if (PENALTY) { pen = hyper[HYPER_SPARSITY_COEF] * r[5] / nb; }
    metrics[0] = mse + pen + aux;
    metrics[1] = mse;
    metrics[2] = 1.0 - r[0] / max(var_sum, 1e-30);
    metrics[3] = r[2] / nb;
    metrics[4] = r[3] / nb;
    metrics[5] = f32(nd);
    metrics[6] = aux;
    metrics[7] = bitcast<f32>(state[STATE_GRAD_NORM]);
    if (DEAD) { state[STATE_N_DEAD] = nd; }
  }
}
