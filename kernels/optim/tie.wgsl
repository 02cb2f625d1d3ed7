// Tied weights (W_enc = W_decᵀ, one trained matrix stored as W_dec [S, D]):
//   add_transposed: gW_dec[i, d] += gW_enc[d, i]   (the tied matrix's gradient: both uses' gradients)
//   transpose:      W_enc[d, i] = W_dec[i, d]      (after the decoder's update, the encoder follows)
// 16 × 16 tiles through workgroup memory, so both the [D, S] and the [S, D] side are read and written
// along rows (coalesced). Workgroup (x, y) covers latents 16x.. and input dims 16y..
override D: u32;
override S: u32;

const T: u32 = 16u;

@group(0) @binding(0) var<storage, read> gW_enc: array<f32>;
@group(0) @binding(1) var<storage, read_write> gW_dec: array<f32>;
@group(0) @binding(2) var<storage, read> W_dec: array<f32>;
@group(0) @binding(3) var<storage, read_write> W_enc: array<f32>;

var<workgroup> tile: array<array<f32, 17>, 16>; // +1 column: no bank conflicts on the transposed read

@compute @workgroup_size(16, 16)
fn add_transposed(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  // read gW_enc[d, i] along i (rows of [D, S])
  let i_r = wid.x * T + lid.x;
  let d_r = wid.y * T + lid.y;
  if (i_r < S && d_r < D) { tile[lid.y][lid.x] = gW_enc[d_r * S + i_r]; }
  workgroupBarrier();
  // write gW_dec[i, d] along d (rows of [S, D])
  let d_w = wid.y * T + lid.x;
  let i_w = wid.x * T + lid.y;
  if (i_w < S && d_w < D) { gW_dec[i_w * D + d_w] += tile[lid.x][lid.y]; }
}

@compute @workgroup_size(16, 16)
fn transpose(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  // read W_dec[i, d] along d
  let d_r = wid.y * T + lid.x;
  let i_r = wid.x * T + lid.y;
  if (i_r < S && d_r < D) { tile[lid.y][lid.x] = W_dec[i_r * D + d_r]; }
  workgroupBarrier();
  // write W_enc[d, i] along i
  let i_w = wid.x * T + lid.x;
  let d_w = wid.y * T + lid.y;
  if (i_w < S && d_w < D) { W_enc[d_w * S + i_w] = tile[lid.x][lid.y]; }
}
