// Per-latent gradients from the latent-major entry lists (see csc.wgsl): one workgroup per latent i,
// touching only the tokens where i is active (TopK family: k rows per token, not d_sae). Scalar buffer
// path (any d_in); latent_grad_tex.wgsl is the fast one.
//   gW_dec[i, d]  = Σ_e val[e] · dvec[t(e), d]        (main entries: reconstruction grad rows;
//                                                      AuxK entries: the aux grad rows B..2B)
//   gW_enc[d, i]  = Σ_e g[e] · xc[t(e), d]            (xc = x − b_dec; stored [d_in, d_sae]; DX wide)
//   gb_enc[i]     = Σ_e g[e]
//   since[i]      = 0 if i fired in a main entry this step, else since[i] + B (dead-latent clock)
// Matryoshka: main entries read the gradient rows block_of(LO + i)·B + t (./level_rows.wgsl; global index).
override B: u32;
override D: u32;
override S: u32;
override CAP: u32;
override AUXCAP: u32 = 0u;
// The input rows' width (xc, gW_enc); D is the gradient rows' (dvec, gW_dec). They differ for a transcoder
// (d_in → d_out).
override DX: u32;
// Slab mode (stages/train/slab_plan.ts): this pass covers latents [LO, LO + S); gW_dec / gW_enc are the
// slab's own buffers ([S, D], [D, S]); start, gb_enc and since are indexed by the global latent LO + i.
override LO: u32 = 0u;

const WG: u32 = 64u;
const SINCE_MAX: u32 = 0xf0000000u;
// @include "level_rows.wgsl"

@group(0) @binding(0) var<storage, read> list: array<u32>;
@group(0) @binding(1) var<storage, read> start: array<u32>;
@group(0) @binding(2) var<storage, read> val: array<f32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read> dvec: array<f32>;
@group(0) @binding(5) var<storage, read> xc: array<f32>;
@group(0) @binding(6) var<storage, read_write> gW_dec: array<f32>;
@group(0) @binding(7) var<storage, read_write> gW_enc: array<f32>;
@group(0) @binding(8) var<storage, read_write> gb_enc: array<f32>;
@group(0) @binding(9) var<storage, read_write> since: array<u32>;

var<workgroup> aw: array<f32, D>;
var<workgroup> ae: array<f32, DX>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = wid.x + wid.y * nw.x;
  if (i >= S) { return; }
  let p0 = start[LO + i];
  let p1 = start[LO + i + 1u];
  let main_n = B * CAP;
  // Accumulate in workgroup memory; each lane owns dims d ≡ lid (mod WG); the list walk is outermost.
  for (var d = lid; d < D; d += WG) { aw[d] = 0.0; }
  for (var d = lid; d < DX; d += WG) { ae[d] = 0.0; }
  for (var p = p0; p < p1; p++) {
    let e = list[p];
    var t: u32;
    var dv: u32;
    if (e < main_n) { t = e / CAP; dv = (block_of(LO + i) * B + t) * D; } else { t = (e - main_n) / AUXCAP; dv = (B + t) * D; }
    let v = val[e];
    let ge = g[e];
    let xo = t * DX;
    for (var d = lid; d < D; d += WG) { aw[d] += v * dvec[dv + d]; }
    for (var d = lid; d < DX; d += WG) { ae[d] += ge * xc[xo + d]; }
  }
  for (var d = lid; d < D; d += WG) { gW_dec[i * D + d] = aw[d]; }
  for (var d = lid; d < DX; d += WG) { gW_enc[d * S + i] = ae[d]; }
  if (lid == 0u) {
    var gs = 0.0;
    var fired = false;
    for (var p = p0; p < p1; p++) {
      let e = list[p];
      gs += g[e];
      if (e < main_n) { fired = true; }
    }
    gb_enc[LO + i] = gs;
    if (fired) { since[LO + i] = 0u; } else { since[LO + i] = min(since[LO + i] + B, SINCE_MAX); }
  }
}
