// Packs a logical f32 matrix L[rows, cols] into an rgba32float texture for gemm_tex.wgsl:
//   dst[texel (cq, row)] = L[row, 4cq .. 4cq+3]  (optionally minus sub[col]),
// zero outside L, so the GEMM's padded k range adds nothing. L = src stored row-major [rows, cols],
// or with `transpose` L = srcᵀ of src stored [cols, rows] (Aᵀ operands become row-major texels).
struct Params {
  rows: u32,
  cols: u32,
  sub_mode: u32, // 0: none, 1: subtract sub[col]
  transpose: u32,
}

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read> sub: array<f32>;
@group(0) @binding(2) var dst: texture_storage_2d<rgba32float, write>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let size = textureDimensions(dst);
  if (gid.x >= size.x || gid.y >= size.y) { return; }
  let row = gid.y;
  var v = vec4<f32>(0.0);
  if (row < p.rows) {
    for (var j = 0u; j < 4u; j++) {
      let col = 4u * gid.x + j;
      if (col < p.cols) {
        var x: f32;
        if (p.transpose != 0u) { x = src[col * p.rows + row]; } else { x = src[row * p.cols + col]; }
        if (p.sub_mode == 1u) { x -= sub[col]; }
        v[j] = x;
      }
    }
  }
  textureStore(dst, gid.xy, v);
}
