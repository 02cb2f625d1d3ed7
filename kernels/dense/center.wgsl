// xc[t, d] = x[t, d] − b_dec[d] (SAELens apply_b_dec_to_input); the encoder input and the dW_enc factor.
override D: u32;
override N: u32; // B·D

const WG: u32 = 256u;

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> b_dec: array<f32>;
@group(0) @binding(2) var<storage, read_write> xc: array<f32>;

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nw: vec3<u32>) {
  let j = gid.x + gid.y * nw.x * WG;
  if (j < N) { xc[j] = x[j] - b_dec[j % D]; }
}
