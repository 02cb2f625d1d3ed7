// Gradient of b_dec, one workgroup per input dim d:
//   gb_dec[d] = Σ_t dvec[ROW0 + t, d] − Σ_i W_enc[d, i] · gb_enc[i]
// (ROW0: the first of the B gradient rows to sum; Matryoshka sums its D_0 block, which holds every level's share.)
// (b_dec adds to x̂ and is subtracted from the encoder input, so it receives the decoder-side
// gradient minus the encoder-side one; gb_enc = Σ_t dpre[t, ·].)
override B: u32;
override D: u32;
override S: u32;
// Slab mode (stages/train/slab_plan.ts): W_enc is the slab of latents [LO, LO + S) ([D, S]); ACCUMULATE
// subtracts its part from gb_dec (the first slab's pass writes Σ_t dvec − its part).
override LO: u32 = 0u;
override ACCUMULATE: bool = false;
override ROW0: u32 = 0u;

const WG: u32 = 64u;

@group(0) @binding(0) var<storage, read> dvec: array<f32>;
@group(0) @binding(1) var<storage, read> W_enc: array<f32>;
@group(0) @binding(2) var<storage, read> gb_enc: array<f32>;
@group(0) @binding(3) var<storage, read_write> gb_dec: array<f32>;

var<workgroup> red: array<f32, WG>;

@compute @workgroup_size(WG)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let d = wid.x;
  var s = 0.0;
  if (!ACCUMULATE) {
    for (var t = lid; t < B; t += WG) { s += dvec[(ROW0 + t) * D + d]; }
  }
  var e = 0.0;
  for (var i = lid; i < S; i += WG) { e += W_enc[d * S + i] * gb_enc[LO + i]; }
  red[lid] = s - e;
  workgroupBarrier();
  for (var off = WG / 2u; off > 0u; off >>= 1u) {
    if (lid < off) { red[lid] += red[lid + off]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    if (ACCUMULATE) { gb_dec[d] += red[0]; } else { gb_dec[d] = red[0]; }
  }
}
