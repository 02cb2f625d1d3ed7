// Where texel q (floats 4q..4q+3) of row r sits in a row texture with `fold` rows per texture row and QW
// texels per row (the layout of kernels/runtime/row_texture.ts); the includer declares QW.
fn row_texel(r: u32, q: u32, fold: u32) -> vec2<u32> { return vec2<u32>((r % fold) * QW + q, r / fold); }
