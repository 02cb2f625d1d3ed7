// Gated SAE activations (Rajamanoharan et al. 2024; SAELens GatedTrainingSAE), dense on pre [B, S]:
//   pre = π_gate = xc·W_enc + b_gate (the encoder GEMM, b_gate in the b_enc buffer)
//   π_mag = e^{r_mag}·(π_gate − b_gate) + b_mag   (the magnitude path shares W_enc, rescaled per latent)
//   f = [π_gate > 0]·ReLU(π_mag)                   (the SAE's latents, decoded into x̂)
//   a = ReLU(π_gate)                               (the gate path, decoded through a frozen decoder
//                                                   for the auxiliary loss and L1-penalised)
//   forward (one workgroup per row t): z[t] = f, z[B + t] = a (stacked: one decode GEMM of 2B rows);
//     rowstats[t*8+2] = L0 = #(f > 0), [3] = L1 = Σ f, [5] = penalty Σ_i a_i·‖W_dec_i‖
//   backward (one invocation per latent i, over the batch), dz = [df; da] = [dvec; dvec_aux]·W_decᵀ:
//     dπ_mag = df·[π_gate > 0]·[π_mag > 0]
//     dπ_gate = (da + (l1/B)·‖W_dec_i‖)·[π_gate > 0]        (the gate's Heaviside passes no gradient)
//     du = dπ_gate + e^{r_mag}·dπ_mag  → dz[t, i] (in place; the W_enc gradient is xcᵀ·du)
//     gb_gate = Σ_t dπ_gate;  gb_mag = Σ_t dπ_mag;  gr_mag = Σ_t dπ_mag·(π_mag − b_mag)
//     gsum = Σ_t du (b_dec's encoder-side gradient);  zsum = Σ_t a (decoder side of the L1 term)
//     since_i: the dead-latent clock, reset when f fires on some row
// Per-latent vectors travel packed (lat = [r_mag; b_gate; b_mag; ‖W_dec‖], lgrad = [gb_gate; gb_mag;
// gr_mag; gsum; zsum], each [SA]) so neither entry binds more than 6 storage buffers.
// On a tile (./dense_tile.wgsl) pre is [ROWS, S], z and dz are [2·ROWS, S] (f rows, then a rows); the
// packed vectors are indexed LO + i; LAT_ACC adds to lgrad.
// @include "./dense_tile.wgsl"
override SA: u32;

const WG: u32 = 64u;
// @include "../runtime/slots.wgsl"

@group(0) @binding(0) var<storage, read> pre: array<f32>;
@group(0) @binding(1) var<storage, read> lat: array<f32>;
@group(0) @binding(2) var<storage, read> hyper: array<f32>;
@group(0) @binding(3) var<storage, read_write> z: array<f32>;
@group(0) @binding(4) var<storage, read_write> dz: array<f32>;
@group(0) @binding(5) var<storage, read_write> rowstats: array<f32>;
@group(0) @binding(6) var<storage, read_write> lgrad: array<f32>;
@group(0) @binding(7) var<storage, read_write> since: array<u32>;

var<workgroup> red: array<vec3<f32>, WG>;

// (i: the latent's global index)
fn mag_pre(pg: f32, i: u32) -> f32 { return exp(lat[i]) * (pg - lat[SA + i]) + lat[2u * SA + i]; }

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let t = wid.x;
  var s = vec3<f32>(0.0, 0.0, 0.0);
  for (var i = lid; i < S; i += WG) {
    let pg = pre[t * S + i];
    let f = select(0.0, max(mag_pre(pg, LO + i), 0.0), pg > 0.0);
    let a = max(pg, 0.0);
    z[t * S + i] = f;
    z[(ROWS + t) * S + i] = a;
    if (f > 0.0) {
      s.x += 1.0;
      s.y += f;
    }
    s.z += a * lat[3u * SA + LO + i];
  }
  if (!ROW_STATS) { return; }
  red[lid] = s;
  workgroupBarrier();
  for (var off = WG / 2u; off > 0u; off >>= 1u) {
    if (lid < off) { red[lid] += red[lid + off]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let r = (ROW0 + t) * 8u;
    var add = red[0];
    if (ROW_ACC) { add += vec3<f32>(rowstats[r + 2u], rowstats[r + 3u], rowstats[r + 5u]); }
    rowstats[r + 2u] = add.x;
    rowstats[r + 3u] = add.y;
    rowstats[r + 5u] = add.z;
  }
}

@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let li = gid.x + gid.y * nw.x * WG;
  if (li >= S) { return; }
  let i = LO + li;
  let er = exp(lat[i]);
  let bg = lat[SA + i];
  let bm = lat[2u * SA + i];
  let pen = hyper[HYPER_SPARSITY_COEF] / f32(B) * lat[3u * SA + i];
  var s_gate = 0.0;
  var s_mag = 0.0;
  var s_r = 0.0;
  var s_u = 0.0;
  var s_a = 0.0;
  var fired = false;
  for (var t = 0u; t < ROWS; t++) {
    let j = t * S + li;
    let pg = pre[j];
    let pm = er * (pg - bg) + bm;
    let open = pg > 0.0;
    let dm = select(0.0, dz[j], open && pm > 0.0);
    let dg = select(0.0, dz[ROWS * S + j] + pen, open);
    let du = dg + er * dm;
    dz[j] = du;
    s_gate += dg;
    s_mag += dm;
    s_r += dm * (pm - bm);
    s_u += du;
    s_a += max(pg, 0.0);
    fired = fired || (open && pm > 0.0);
  }
  var sums = array<f32, 5>(s_gate, s_mag, s_r, s_u, s_a);
  for (var q = 0u; q < 5u; q++) {
    let o = q * SA + i;
    if (LAT_ACC) { lgrad[o] += sums[q]; } else { lgrad[o] = sums[q]; }
  }
  if (LAT_ACC) {
    if (fired) { since[i] = 0u; }
  } else if (fired) { since[i] = 0u; } else { since[i] = min(since[i] + B, SINCE_MAX); }
}
