// General dense GEMM straight from storage buffers (the fallback path), f32, row-major:
//   C[m,n] = (accumulate ? C[m,n] : 0) + alpha · Σ_k opA[m,k]·opB[k,n] + (bias ? bias[n] : 0)
// opA = A [M,K] or, with TRANS_A, Aᵀ of A stored [K,M]; opB = B [K,N] or, with TRANS_B, Bᵀ of B
// stored [N,K]. With subtract, opA[m,k] - sub[k] is used (SAELens' x - b_dec).
// Each invocation computes a TM×TN register tile; out-of-range rows/columns are clamped for loads
// and skipped for stores, so any M, K, N work.
// Layout flags are pipeline constants; sizes and the rest are a uniform (one pipeline per layout).
override TRANS_A: bool = false;
override TRANS_B: bool = false;

struct Params {
  M: u32,
  K: u32,
  N: u32,
  flags: u32, // bit 0: add bias, bit 1: accumulate into C, bit 2: subtract sub[k] from opA
  alpha: f32,
}

const TM: u32 = 4u;
const TN: u32 = 4u;
const WG_X: u32 = 8u;
const WG_Y: u32 = 8u;

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read> sub: array<f32>;
@group(0) @binding(4) var<storage, read_write> c: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

fn loadA(m: u32, k: u32) -> f32 {
  if (TRANS_A) { return a[k * p.M + m]; }
  return a[m * p.K + k];
}

fn loadB(k: u32, n: u32) -> f32 {
  if (TRANS_B) { return b[n * p.K + k]; }
  return b[k * p.N + n];
}

@compute @workgroup_size(WG_X, WG_Y, 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let M = p.M;
  let K = p.K;
  let N = p.N;
  let subtract = (p.flags & 4u) != 0u;
  let m0 = gid.y * TM;
  let n0 = gid.x * TN;
  var acc: array<array<f32, TN>, TM>;
  for (var k = 0u; k < K; k++) {
    var av: array<f32, TM>;
    var bv: array<f32, TN>;
    var s = 0.0;
    if (subtract) { s = sub[k]; }
    for (var i = 0u; i < TM; i++) { av[i] = loadA(min(m0 + i, M - 1u), k) - s; }
    for (var j = 0u; j < TN; j++) { bv[j] = loadB(k, min(n0 + j, N - 1u)); }
    for (var i = 0u; i < TM; i++) {
      for (var j = 0u; j < TN; j++) { acc[i][j] = fma(av[i], bv[j], acc[i][j]); }
    }
  }
  for (var i = 0u; i < TM; i++) {
    let m = m0 + i;
    if (m >= M) { break; }
    for (var j = 0u; j < TN; j++) {
      let n = n0 + j;
      if (n >= N) { break; }
      var v = p.alpha * acc[i][j];
      if ((p.flags & 1u) != 0u) { v += bias[n]; }
      if ((p.flags & 2u) != 0u) { v += c[m * N + n]; }
      c[m * N + n] = v;
    }
  }
}
