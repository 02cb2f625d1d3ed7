// Sparse decode, texture path (template: CQ texels per invocation, expanded by kernels/runtime/unroll.ts):
//   out[t, d] = (BIAS ? b_dec[d] : 0) + Σ_s val[e] · W_dec[idx[e], d],  e = ENTRY_BASE + t*CAP + s,
// W_dec read through a row texture (kernels/runtime/row_texture.ts), 4 floats per texel. One invocation per
// (token t, chunk of CQ texels); the chunks of a token are neighbours, so a SIMD group shares its
// token's idx/val loads and branches. Slots s ≥ min(CAP, state.n_dead) are skipped when AUX_BOUND (the
// AuxK selection fills only those). With STATS, rowstats[t*8+2] = L0, rowstats[t*8+3] = L1 (Σ val).
// Slab mode (stages/train/slab_plan.ts): W_dec holds latents [LO, HI) only; entries outside are skipped
// (another pass adds them; the stats still count every entry) and ACCUMULATE adds to out.
// Matryoshka prefixes: entries with idx ≥ IDX_LIMIT are skipped, row t lands at out row OUT_ROW_BASE + t.
override ROWS: u32;
override D: u32;
override CAP: u32;
override ENTRY_BASE: u32 = 0u;
override BIAS: bool = true;
override STATS: bool = true;
override AUX_BOUND: bool = false;
override IDX_LIMIT: u32 = 0xffffffffu;
override OUT_ROW_BASE: u32 = 0u;
override FOLD: u32 = 1u;
override LO: u32 = 0u;
override HI: u32 = 0xffffffffu;
override ACCUMULATE: bool = false;

const WG: u32 = 64u;
override QW: u32 = D / 4u;
override NCH: u32 = (QW + $(CQ)u - 1u) / $(CQ)u;
const INVALID: u32 = 0xffffffffu;
// @include "../runtime/slots.wgsl"

@group(0) @binding(0) var<storage, read> idx: array<u32>;
@group(0) @binding(1) var<storage, read> val: array<f32>;
@group(0) @binding(2) var W_dec: texture_storage_2d<rgba32float, read>;
@group(0) @binding(3) var<storage, read> b_dec: array<f32>;
@group(0) @binding(4) var<storage, read_write> out: array<f32>;
@group(0) @binding(5) var<storage, read_write> rowstats: array<f32>;
@group(0) @binding(6) var<storage, read> state: array<u32>;

// @include "../runtime/row_texel.wgsl"

fn start4(t: u32, q: u32) -> vec4<f32> {
  if (q >= QW) { return vec4<f32>(0.0); }
  if (ACCUMULATE) {
    let o = (OUT_ROW_BASE + t) * D + 4u * q;
    return vec4<f32>(out[o], out[o + 1u], out[o + 2u], out[o + 3u]);
  }
  if (!BIAS) { return vec4<f32>(0.0); }
  return vec4<f32>(b_dec[4u * q], b_dec[4u * q + 1u], b_dec[4u * q + 2u], b_dec[4u * q + 3u]);
}

fn store4(t: u32, q: u32, v: vec4<f32>) {
  if (q >= QW) { return; }
  let o = (OUT_ROW_BASE + t) * D + 4u * q;
  out[o] = v.x;
  out[o + 1u] = v.y;
  out[o + 2u] = v.z;
  out[o + 3u] = v.w;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let n = gid.x + gid.y * nw.x * WG;
  let t = n / NCH;
  if (t >= ROWS) { return; }
  let q0 = (n % NCH) * $(CQ)u;
  let e0 = ENTRY_BASE + t * CAP;
  var ns = CAP;
  if (AUX_BOUND) { ns = min(CAP, state[STATE_N_DEAD]); }
  // @unroll(q, CQ)
  var acc_$(q) = start4(t, q0 + $(q)u);
  // @end
  var l0 = 0.0;
  var l1 = 0.0;
  for (var s = 0u; s < ns; s++) {
    let i = idx[e0 + s];
    if (i == INVALID || i >= IDX_LIMIT) { continue; }
    let v = val[e0 + s];
    l0 += 1.0;
    l1 += v;
    if (i < LO || i >= HI) { continue; }
    let vv = vec4<f32>(v);
    // @unroll(q, CQ)
    acc_$(q) = fma(vv, textureLoad(W_dec, row_texel(i - LO, q0 + $(q)u, FOLD)), acc_$(q));
    // @end
  }
  // @unroll(q, CQ)
  store4(t, q0 + $(q)u, acc_$(q));
  // @end
  if (STATS && q0 == 0u) {
    rowstats[t * 8u + 2u] = l0;
    rowstats[t * 8u + 3u] = l1;
  }
}
