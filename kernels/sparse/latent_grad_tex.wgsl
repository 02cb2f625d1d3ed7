// Per-latent gradients, texture path (template: CQ texels per invocation, expanded by kernels/runtime/unroll.ts), from
// the latent-major entry lists (csc.wgsl); only the tokens where latent i is active are read:
//   gW_dec[i, d] = Σ_e val[e] · dvec[r(e), d]   (r = t for main entries, B + t for AuxK entries)
//   gW_enc[d, i] = Σ_e g[e] · xc[t(e), d]        (xc = x − b_dec; written straight in [d_in, d_sae])
// dvec / gW_dec rows are D wide, xc / gW_enc's DX (a transcoder's d_out and d_in; both multiples of 4).
//   gb_enc[i]    = Σ_e g[e]
//   since[i]     = 0 if i fired in a main entry this step, else since[i] + B (dead-latent clock)
// Sums run in list order (deterministic). dvec and xc rows are read as rgba32float texels through row
// textures (kernels/runtime/row_texture.ts). One invocation per (latent i, chunk of CQ texels); a latent's
// chunks are neighbours, so a SIMD group walks one list together. Matryoshka: main entries read the
// gradient rows block_of(LO + i)·B + t (./level_rows.wgsl; global index).
override B: u32;
override D: u32;
override S: u32;
override CAP: u32;
override AUXCAP: u32 = 0u;
override DX: u32;
override FOLD_G: u32 = 1u;
override FOLD_X: u32 = 1u;
// Slab mode (stages/train/slab_plan.ts): this pass covers latents [LO, LO + S); gW_dec / gW_enc are the
// slab's own buffers ([S, D], [D, S]); start, gb_enc and since are indexed by the global latent LO + i.
override LO: u32 = 0u;

const WG: u32 = 64u;
const SINCE_MAX: u32 = 0xf0000000u;
// @include "level_rows.wgsl"
override QW: u32 = D / 4u;
override QX: u32 = DX / 4u;
override NCH: u32 = (max(QW, QX) + $(CQ)u - 1u) / $(CQ)u;

@group(0) @binding(0) var<storage, read> list: array<u32>;
@group(0) @binding(1) var<storage, read> start: array<u32>;
@group(0) @binding(2) var<storage, read> val: array<f32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var dvec: texture_storage_2d<rgba32float, read>;
@group(0) @binding(5) var xc: texture_storage_2d<rgba32float, read>;
@group(0) @binding(6) var<storage, read_write> gW_dec: array<f32>;
@group(0) @binding(7) var<storage, read_write> gW_enc: array<f32>;
@group(0) @binding(8) var<storage, read_write> gb_enc: array<f32>;
@group(0) @binding(9) var<storage, read_write> since: array<u32>;

// @include "../runtime/row_texel.wgsl"

// row_texel for the xc texture (QX texels per row).
fn row_texel_x(r: u32, q: u32, fold: u32) -> vec2<u32> { return vec2<u32>((r % fold) * QX + q, r / fold); }

// Texels past a row's end (the narrower side's, or the last chunk's) are loaded but never stored.
fn store4(i: u32, q: u32, aw: vec4<f32>, ae: vec4<f32>) {
  let d = 4u * q;
  if (q < QW) {
    let o = i * D + d;
    gW_dec[o] = aw.x;
    gW_dec[o + 1u] = aw.y;
    gW_dec[o + 2u] = aw.z;
    gW_dec[o + 3u] = aw.w;
  }
  if (q >= QX) { return; }
  gW_enc[d * S + i] = ae.x;
  gW_enc[(d + 1u) * S + i] = ae.y;
  gW_enc[(d + 2u) * S + i] = ae.z;
  gW_enc[(d + 3u) * S + i] = ae.w;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let n = gid.x + gid.y * nw.x * WG;
  let i = n / NCH;
  if (i >= S) { return; }
  let q0 = (n % NCH) * $(CQ)u;
  let p0 = start[LO + i];
  let p1 = start[LO + i + 1u];
  let main_n = B * CAP;
  // @unroll(q, CQ)
  var aw_$(q) = vec4<f32>(0.0);
  var ae_$(q) = vec4<f32>(0.0);
  // @end
  var gs = 0.0;
  var fired = false;
  let rb = block_of(LO + i) * B;
  for (var p = p0; p < p1; p++) {
    let e = list[p];
    var t: u32;
    var r: u32;
    if (e < main_n) { t = e / CAP; r = rb + t; fired = true; } else { t = (e - main_n) / AUXCAP; r = B + t; }
    let v = vec4<f32>(val[e]);
    let ge = g[e];
    gs += ge;
    let gv = vec4<f32>(ge);
    // @unroll(q, CQ)
    aw_$(q) = fma(v, textureLoad(dvec, row_texel(r, q0 + $(q)u, FOLD_G)), aw_$(q));
    ae_$(q) = fma(gv, textureLoad(xc, row_texel_x(t, q0 + $(q)u, FOLD_X)), ae_$(q));
    // @end
  }
  // @unroll(q, CQ)
  store4(i, q0 + $(q)u, aw_$(q), ae_$(q));
  // @end
  if (q0 == 0u) {
    gb_enc[LO + i] = gs;
    if (fired) { since[LO + i] = 0u; } else { since[LO + i] = min(since[LO + i] + B, SINCE_MAX); }
  }
}
