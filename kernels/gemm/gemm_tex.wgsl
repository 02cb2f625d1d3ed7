// Dense GEMM from rgba32float textures (the fast path), f32:
//   C[m,n] = (accumulate ? C[m,n] : 0) + alpha · Σ_k opA[m,k]·opB[k,n] + (bias ? bias[n] : 0)
// A template: `// @unroll` blocks and `$(expr)` are expanded by kernels/runtime/unroll.ts (params R, CQ, WG_X, WG_Y).
// Operands arrive packed (pack_tex.wgsl or a buffer copy) in zero-padded textures, 4 floats a texel:
//                at[texel (kq, m)] = opA[m, 4kq .. 4kq+3]   (Aᵀ operands are transposed by the pack)
//   B_T = false: bt[texel (nq, k)] = opB[k, 4nq .. 4nq+3]   (B stored [K,N])
//   B_T = true:  bt[texel (kq, n)] = opB[4kq .. 4kq+3, n]   (B stored [N,K]: Bᵀ is used)
// Padding is zero, so the k loop has no bounds checks; only the final stores are guarded.
// Each invocation owns an R × 4·CQ register tile, unrolled so it lives in registers. Why textures: on
// CPU Vulkan (lavapipe) a storage-buffer load is a per-lane scalar loop while a texel read moves 4
// floats per lane in one gather; on GPUs texture reads are cached and fast as well.
// The layout flag is a pipeline constant; sizes and the rest are a uniform, so one compiled pipeline
// serves every shape.
override B_T: bool = false;
// OUT_TEX: C goes to a row texture (kernels/runtime/row_texture.ts layout, FOLD/QW in the uniform) instead of
// the buffer c, one texel per 4 columns (N % 4 == 0, no accumulate), so TopK reads it without a copy.
override OUT_TEX: bool = false;

struct Params {
  M: u32,
  N: u32,
  KQ: u32, // ceil(K / 4)
  flags: u32, // bit 0: add bias, bit 1: accumulate into C
  alpha: f32,
  fold: u32, // OUT_TEX: logical rows per texture row
  qw: u32, // OUT_TEX: texels per logical row (N / 4)
}

@group(0) @binding(0) var at: texture_storage_2d<rgba32float, read>;
@group(0) @binding(1) var bt: texture_storage_2d<rgba32float, read>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;
@group(0) @binding(5) var ct: texture_storage_2d<rgba32float, write>;

@compute @workgroup_size($(WG_X), $(WG_Y), 1)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let m0 = gid.y * $(R)u;
  let nq0 = gid.x * $(CQ)u;
  // acc_r_q = C[m0 + r, 4(nq0 + q) .. +3]
  // @unroll(r, R)
  // @unroll(q, CQ)
  var acc_$(r)_$(q) = vec4<f32>(0.0);
  // @end
  // @end
  let KQ = p.KQ;
  for (var kq = 0u; kq < KQ; kq++) {
    let k4 = 4u * kq;
    // a_r = opA[m0 + r, k4 .. k4+3]
    // @unroll(r, R)
    let a_$(r) = textureLoad(at, vec2<u32>(kq, m0 + $(r)u));
    // @end
    // b_kk_q = opB[k4 + kk, 4(nq0 + q) .. +3]
    // @unroll(kk, 4)
    // @unroll(q, CQ)
    var b_$(kk)_$(q): vec4<f32>;
    // @end
    // @end
    if (B_T) {
      // @unroll(q, CQ)
      // @unroll(j, 4)
      {
        let t = textureLoad(bt, vec2<u32>(kq, 4u * nq0 + $(4*q+j)u));
        b_0_$(q)[$(j)] = t.x;
        b_1_$(q)[$(j)] = t.y;
        b_2_$(q)[$(j)] = t.z;
        b_3_$(q)[$(j)] = t.w;
      }
      // @end
      // @end
    } else {
      // @unroll(kk, 4)
      // @unroll(q, CQ)
      b_$(kk)_$(q) = textureLoad(bt, vec2<u32>(nq0 + $(q)u, k4 + $(kk)u));
      // @end
      // @end
    }
    // q outer, k innermost: each accumulator takes 4 FMAs while in a register (measured fastest).
    // @unroll(q, CQ)
    // @unroll(r, R)
    // @unroll(kk, 4)
    acc_$(r)_$(q) = fma(vec4<f32>(a_$(r)[$(kk)]), b_$(kk)_$(q), acc_$(r)_$(q));
    // @end
    // @end
    // @end
  }
  // @unroll(r, R)
  // @unroll(q, CQ)
  store(m0 + $(r)u, 4u * (nq0 + $(q)u), acc_$(r)_$(q));
  // @end
  // @end
}

fn store(m: u32, n0: u32, v: vec4<f32>) {
  if (m >= p.M) { return; }
  if (OUT_TEX) {
    if (n0 >= p.N) { return; }
    var x = p.alpha * v;
    if ((p.flags & 1u) != 0u) { x += vec4<f32>(bias[n0], bias[n0 + 1u], bias[n0 + 2u], bias[n0 + 3u]); }
    textureStore(ct, vec2<u32>((m % p.fold) * p.qw + n0 / 4u, m / p.fold), x);
    return;
  }
  for (var j = 0u; j < 4u; j++) {
    let n = n0 + j;
    if (n < p.N) {
      var x = p.alpha * v[j];
      if ((p.flags & 1u) != 0u) { x += bias[n]; }
      if ((p.flags & 2u) != 0u) { x += c[m * p.N + n]; }
      c[m * p.N + n] = x;
    }
  }
}
