// out[c, r] = inp[r, c] for inp [R, C] row-major, through a 16×16 workgroup tile so reads and writes
// both run along contiguous memory.
override R: u32;
override C: u32;

const T: u32 = 16u;

@group(0) @binding(0) var<storage, read> inp: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;

var<workgroup> tile: array<array<f32, 17>, T>; // padded row: no bank conflicts

@compute @workgroup_size(T, T)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let r = wid.y * T + lid.y;
  let c = wid.x * T + lid.x;
  if (r < R && c < C) { tile[lid.y][lid.x] = inp[r * C + c]; }
  workgroupBarrier();
  let orow = wid.x * T + lid.y; // = c of the input
  let ocol = wid.y * T + lid.x; // = r of the input
  if (orow < C && ocol < R) { out[orow * R + ocol] = tile[lid.x][lid.y]; }
}
