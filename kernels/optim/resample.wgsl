// Dead-latent resampling (Anthropic, "Towards Monosemanticity", April 2023; dictionary_learning's
// resample_neurons): each pick p = (latent i, batch row t) re-initialises latent i toward input row t.
//   alive_norms (one workgroup): norms[0] = mean_{i alive} ‖W_enc[:, i]‖, norms[1] = mean_{i alive} ‖W_dec[i, :]‖
//     (alive: since_i < WINDOW; with no alive latent, the means over all latents)
//   reinit (one workgroup per pick): v = x_t − b_dec, v̂ = v / ‖v‖
//     W_dec[i, :] = v̂ · (NORMALIZE ? 1 : norms[1]);  W_enc[:, i] = v̂ · 0.2 · norms[0];  since_i = 0
//   reset_rows (one workgroup per pick): Adam moments of W_enc's column i and W_dec's row i ← 0
//   zero_at (one invocation per pick): mat_a[i] = 0 (a per-latent parameter or Adam moment, bound per vector)
// Transcoders (TRANSCODER, decoder rows of width O = d_out, targets y [B, O]): the encoder column follows
// x_t / ‖x_t‖ (no b_dec on the input side) and the decoder row (y_t − b_dec) / ‖y_t − b_dec‖; an SAE has O = D
// and binds x as y, and both follow (x_t − b_dec) / ‖x_t − b_dec‖.
// picks[0] = n (picks), picks[1 + 2p] = i, picks[2 + 2p] = t.
// Slab mode (stages/train/slab_plan.ts): W_enc [D, S], W_dec [S, O] and their moments hold latents
// [LO, LO + S) of TOTAL; picks carry global latents (others are left for their slab's pass), since is
// global. alive_norms runs once per slab: FIRST starts the sums in norms[2..7), later slabs add to them,
// LAST turns them into the means. One slab: LO 0, S = TOTAL, FIRST and LAST.
override D: u32;
override S: u32;
override LO: u32 = 0u;
override TOTAL: u32 = S;
override FIRST: bool = true;
override LAST: bool = true;
override O: u32;
override TRANSCODER: bool = false;
override WINDOW: u32;
override NORMALIZE: bool = true;

const WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> picks: array<u32>;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> b_dec: array<f32>;
@group(0) @binding(3) var<storage, read_write> norms: array<f32>;
@group(0) @binding(4) var<storage, read_write> W_enc: array<f32>;
@group(0) @binding(5) var<storage, read_write> W_dec: array<f32>;
@group(0) @binding(6) var<storage, read_write> since: array<u32>;
@group(0) @binding(7) var<storage, read_write> mat_a: array<f32>;
@group(0) @binding(8) var<storage, read_write> mat_b: array<f32>;
@group(0) @binding(9) var<storage, read_write> mat_c: array<f32>;
@group(0) @binding(10) var<storage, read_write> mat_d: array<f32>;
@group(0) @binding(11) var<storage, read> y: array<f32>;

var<workgroup> red: array<vec4<f32>, WG>;
var<workgroup> red1: array<f32, WG>;

@compute @workgroup_size(WG)
fn alive_norms(@builtin(local_invocation_index) lid: u32) {
  // (Σ alive enc norms, Σ alive dec norms, #alive, Σ all enc norms) and Σ all dec norms in red1
  var s = vec4<f32>(0.0, 0.0, 0.0, 0.0);
  var all_dec = 0.0;
  for (var i = lid; i < S; i += WG) {
    var e = 0.0;
    var d2 = 0.0;
    // one loop over both widths: two consecutive loops here gave wrong sums on lavapipe (d_in 512, d_sae 4096)
    for (var d = 0u; d < max(D, O); d++) {
      if (d < D) {
        let we = W_enc[d * S + i];
        e += we * we;
      }
      if (d < O) {
        let wd = W_dec[i * O + d];
        d2 += wd * wd;
      }
    }
    let ne = sqrt(e);
    let nd = sqrt(d2);
    if (since[LO + i] < WINDOW) { s += vec4<f32>(ne, nd, 1.0, 0.0); }
    s.w += ne;
    all_dec += nd;
  }
  red[lid] = s;
  red1[lid] = all_dec;
  workgroupBarrier();
  for (var off = WG / 2u; off > 0u; off >>= 1u) {
    if (lid < off) {
      red[lid] += red[lid + off];
      red1[lid] += red1[lid + off];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    var r = red[0];
    var all_d = red1[0];
    if (!FIRST) {
      r += vec4<f32>(norms[2], norms[3], norms[4], norms[5]);
      all_d += norms[6];
    }
    if (!LAST) {
      norms[2] = r.x;
      norms[3] = r.y;
      norms[4] = r.z;
      norms[5] = r.w;
      norms[6] = all_d;
    } else if (r.z > 0.0) {
      norms[0] = r.x / r.z;
      norms[1] = r.y / r.z;
    } else {
      norms[0] = r.w / f32(TOTAL);
      norms[1] = all_d / f32(TOTAL);
    }
  }
}

// The encoder column's source value at d < D and the decoder row's at o < O, for row t.
fn enc_src(t: u32, d: u32) -> f32 {
  if (TRANSCODER) { return x[t * D + d]; }
  return x[t * D + d] - b_dec[d];
}

fn dec_src(t: u32, o: u32) -> f32 {
  if (TRANSCODER) { return y[t * O + o] - b_dec[o]; }
  return x[t * D + o] - b_dec[o];
}

@compute @workgroup_size(WG)
fn reinit(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let p = wid.x;
  if (p >= picks[0]) { return; }
  let g = picks[1u + 2u * p];
  if (g < LO || g >= LO + S) { return; }
  let i = g - LO;
  let t = picks[2u + 2u * p];
  var se = 0.0;
  var sd = 0.0;
  for (var d = lid; d < D; d += WG) {
    let v = enc_src(t, d);
    se += v * v;
  }
  for (var o = lid; o < O; o += WG) {
    let v = dec_src(t, o);
    sd += v * v;
  }
  red[lid] = vec4<f32>(se, sd, 0.0, 0.0);
  workgroupBarrier();
  for (var off = WG / 2u; off > 0u; off >>= 1u) {
    if (lid < off) { red[lid] += red[lid + off]; }
    workgroupBarrier();
  }
  let inv_e = 1.0 / max(sqrt(red[0].x), 1e-30);
  let inv_d = 1.0 / max(sqrt(red[0].y), 1e-30);
  var dec_norm = 1.0;
  if (!NORMALIZE) { dec_norm = norms[1]; }
  let enc_norm = 0.2 * norms[0];
  for (var d = lid; d < D; d += WG) { W_enc[d * S + i] = enc_src(t, d) * inv_e * enc_norm; }
  for (var o = lid; o < O; o += WG) { W_dec[i * O + o] = dec_src(t, o) * inv_d * dec_norm; }
  if (lid == 0u) { since[g] = 0u; }
}

// mat_a, mat_b: Adam m, v of W_enc [D, S]; mat_c, mat_d: of W_dec [S, O].
@compute @workgroup_size(WG)
fn reset_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let p = wid.x;
  if (p >= picks[0]) { return; }
  let g = picks[1u + 2u * p];
  if (g < LO || g >= LO + S) { return; }
  let i = g - LO;
  for (var d = lid; d < D; d += WG) {
    mat_a[d * S + i] = 0.0;
    mat_b[d * S + i] = 0.0;
  }
  for (var o = lid; o < O; o += WG) {
    mat_c[i * O + o] = 0.0;
    mat_d[i * O + o] = 0.0;
  }
}

// mat_a: a per-latent vector [TOTAL] (whole, never split), zeroed at each picked latent.
@compute @workgroup_size(WG)
fn zero_at(@builtin(global_invocation_id) gid: vec3<u32>) {
  let p = gid.x;
  if (p >= picks[0]) { return; }
  let i = picks[1u + 2u * p];
  mat_a[i] = 0.0;
}
