/**
 * The dense step's GEMMs over the slab plan (./slab_plan.ts), shared by standard / jumprelu
 * (./dense_path.ts) and gated (./arch_gated.ts): `batch × d_sae` is cut into tiles of (a chunk c of
 * batch rows) × (a latent slab s), each small enough for one storage binding, and reuses one set of
 * tile buffers (pre [rows, w], z and dz [stack·rows, w]; gated stacks its f and gate rows, stack 2):
 *   forward, per tile:  pre = xc[c]·W_enc[s] + b_enc[s];  z = act(pre);
 *                       x̂[c] = b_dec + Σ_s z·W_dec[s]   (the decode GEMM accumulates over the slabs)
 *   backward, per tile: (with more than one tile the tile's pre and z are recomputed first: the
 *                       forward's were overwritten by later tiles)
 *                       dz = dvec[c]·W_dec[s]ᵀ;  gW_dec[s] += zᵀ·dvec[c];  dpre = act'(dz);
 *                       gW_enc[s] += xc[c]ᵀ·dpre   (the gradient GEMMs accumulate over the chunks)
 * The architecture supplies the tile's activation kernels (`TileAct`); the per-latent sums and rowstats
 * accumulate in those kernels (kernels/dense/dense_act.wgsl, gated_act.wgsl: LAT_ACC, ROW_ACC).
 * One tile is the one-piece step: no copies, no recompute. Also here: the per-slab decoder-row norms,
 * the L1 term's decoder gradient and gb_dec.
 */
import { createEncoderGemm, createGemm, type GemmSpec } from "../../kernels/gemm/mod.ts";
import type { BoundKernel } from "../../kernels/runtime/mod.ts";
import { createBdecGrad, type DenseTile } from "../../kernels/dense/mod.ts";
import { createDecoderNorm } from "../../kernels/optim/mod.ts";
import type { Range } from "./slab_plan.ts";
import type { StepContext } from "./step_context.ts";

/** The reused tile buffers an activation reads and writes. */
export interface TileBuffers {
  pre: GPUBuffer;
  z: GPUBuffer;
  dz: GPUBuffer;
}

/** One tile's activation kernels: forward (writes rowstats), recompute (writes none), backward. */
export interface TileAct {
  forward: BoundKernel;
  recompute: BoundKernel;
  backward: BoundKernel[];
}

export interface DenseTilesInput {
  /** Latent rows per batch row in z, dz, x̂ and dvec (gated: 2, [f; gate path]). */
  stack: 1 | 2;
  /** x − b_dec [B, D]; x̂ and dvec [stack·B, D] (the stacked parts one after the other). */
  xc: GPUBuffer;
  xhat: GPUBuffer;
  dvec: GPUBuffer;
  /** Rows of each chunk that reach W_dec's gradient: all stack·rows, or only the first part's (frozen gate decoder). */
  decFirstOnly?: boolean;
  gW_enc: GPUBuffer[];
  gW_dec: GPUBuffer[];
  act(tile: Omit<DenseTile, "rowStats">, width: number, b: TileBuffers): Promise<TileAct>;
}

export async function denseTiles(
  c: StepContext,
  p: DenseTilesInput,
): Promise<{ forward: BoundKernel[]; backward: BoundKernel[] }> {
  const { device, store, cfg, plan } = c;
  const { slabs, chunks } = plan;
  const { batch: B, d_in: D } = cfg;
  const q = p.stack;
  const P = store.params;
  const whole = slabs.length === 1 && chunks.length === 1;
  const maxRows = chunks[0].size;
  const maxW = slabs[0].size;
  const tb: TileBuffers = {
    pre: c.buf(maxRows * maxW, "pre tile"),
    z: c.buf(q * maxRows * maxW, "z tile"),
    dz: c.buf(q * maxRows * maxW, "dz tile"),
  };
  const chunked = chunks.length > 1;
  const xcT = chunked ? c.buf(maxRows * D, "xc chunk") : p.xc;
  const xhatT = chunked ? c.buf(q * maxRows * D, "xhat chunk") : p.xhat;
  const dvecT = chunked ? c.buf(q * maxRows * D, "dvec chunk") : p.dvec;
  // One GEMM per distinct spec (ragged last chunk and slab: at most four shapes of each).
  const gemms = new Map<string, ReturnType<typeof createGemm>>();
  const gemm = (spec: GemmSpec, bufs: Parameters<ReturnType<typeof createGemm>["encode"]>[1], label: string) => {
    const key = JSON.stringify(spec);
    let g = gemms.get(key);
    if (!g) gemms.set(key, g = createGemm(device, spec)), c.own(g);
    const k = g;
    return { label, encode: (e: GPUCommandEncoder) => k.encode(e, bufs) } as BoundKernel;
  };
  const encs = new Map<string, ReturnType<typeof createEncoderGemm>>();
  const encoder = (rows: number, w: number, j: number): BoundKernel => {
    const key = `${rows}x${w}`;
    let g = encs.get(key);
    if (!g) encs.set(key, g = createEncoderGemm(device, { M: rows, K: D, N: w })), c.own(g);
    const k = g;
    return {
      label: "encoder gemm (tile)",
      encode: (e) => k.encode(e, { x: xcT, W: P.W_enc[j], bias: bias[j], out: tb.pre }),
    };
  };
  // Each slab's b_enc, copied from the whole vector (the GEMM reads a bias from offset 0).
  const bias = slabs.length > 1 ? slabs.map((s, j) => c.buf(s.size, `b_enc slab ${j}`)) : [P.b_enc[0]];
  const forward: BoundKernel[] = [];
  if (slabs.length > 1) {
    forward.push({
      label: "b_enc slab copies",
      encode: (e) => slabs.forEach((s, j) => e.copyBufferToBuffer(P.b_enc[0], s.start * 4, bias[j], 0, s.size * 4)),
    });
  }
  // Rows [ch.start, +size) of each stacked part of `whole` ↔ the chunk buffer (parts at q·rows).
  const rowCopy = (ch: Range, src: GPUBuffer, dst: GPUBuffer, parts: number, toChunk: boolean, label: string) => ({
    label,
    encode: (e: GPUCommandEncoder) => {
      for (let part = 0; part < parts; part++) {
        const wholeAt = (part * B + ch.start) * D * 4, chunkAt = part * ch.size * D * 4;
        if (toChunk) e.copyBufferToBuffer(src, wholeAt, dst, chunkAt, ch.size * D * 4);
        else e.copyBufferToBuffer(src, chunkAt, dst, wholeAt, ch.size * D * 4);
      }
    },
  });
  const backward: BoundKernel[] = [];
  for (const [ci, ch] of chunks.entries()) {
    if (chunked) {
      const xcCopy = rowCopy(ch, p.xc, xcT, 1, true, "xc chunk copy");
      forward.push(xcCopy);
      backward.push(xcCopy, rowCopy(ch, p.dvec, dvecT, q, true, "dvec chunk copy"));
    }
    const r = ch.size;
    for (const [j, s] of slabs.entries()) {
      const tile = { rows: r, row0: ch.start, lo: s.start, rowAcc: j > 0, latAcc: ci > 0 };
      const act = await p.act(tile, s.size, tb);
      const enc = encoder(r, s.size, j);
      const decode = gemm(
        { M: q * r, K: s.size, N: D, bias: j === 0, accumulate: j > 0 },
        { a: tb.z, b: P.W_dec[j], bias: P.b_dec[0], out: xhatT },
        "decode (tile)",
      );
      forward.push(enc, act.forward, decode);
      if (!whole) backward.push(enc, act.recompute);
      const decRows = p.decFirstOnly ? r : q * r;
      backward.push(
        gemm({ M: q * r, K: D, N: s.size, transB: true }, { a: dvecT, b: P.W_dec[j], out: tb.dz }, "dz (tile)"),
        gemm({ M: s.size, K: decRows, N: D, transA: true, accumulate: ci > 0 }, {
          a: tb.z,
          b: dvecT,
          out: p.gW_dec[j],
        }, "gW_dec (tile)"),
        ...act.backward,
        gemm({ M: D, K: r, N: s.size, transA: true, accumulate: ci > 0 }, {
          a: xcT,
          b: tb.dz,
          out: p.gW_enc[j],
        }, "gW_enc (tile)"),
      );
    }
    if (chunked) forward.push(rowCopy(ch, xhatT, p.xhat, q, false, "xhat chunk copy"));
  }
  return { forward, backward };
}

/**
 * Per-slab decoder kernels: `norms` writes ‖W_dec_i‖ of every latent into `wnorm`; `l1Grad` adds the
 * L1 term's decoder side (l1/B)·zsum_i·w_i/‖w_i‖ to each slab's gW_dec (kernels/optim/decoder_norm.ts;
 * a slab's rows start at its own buffer's 0, so wnorm and zsum travel through per-slab copies).
 */
export async function slabDecoderNorms(
  c: StepContext,
  b: { wnorm: GPUBuffer; zsum: GPUBuffer; gW_dec: GPUBuffer[] },
): Promise<{ norms: BoundKernel[]; l1Grad: BoundKernel[] }> {
  const { slabs } = c.plan;
  const D = c.cfg.d_in;
  const one = slabs.length === 1;
  const norms: BoundKernel[] = [];
  const l1Grad: BoundKernel[] = [];
  for (const [j, s] of slabs.entries()) {
    const wnorm = one ? b.wnorm : c.buf(s.size, `wnorm slab ${j}`);
    const zsum = one ? b.zsum : c.buf(s.size, `zsum slab ${j}`);
    const dn = (await createDecoderNorm(c.device, { D, S: s.size, B: c.cfg.batch }))({
      W_dec: c.store.params.W_dec[j],
      gW_dec: b.gW_dec[j],
      wnorm,
      zsum,
      hyper: c.hyper,
    });
    norms.push(dn.norms);
    if (!one) norms.push(copy(wnorm, 0, b.wnorm, s.start, s.size, "wnorm slab copy"));
    if (!one) l1Grad.push(copy(b.zsum, s.start, zsum, 0, s.size, "zsum slab copy"));
    l1Grad.push(dn.l1Grad!);
  }
  return { norms, l1Grad };
}

/** gb_dec = Σ_t dvec[t] (the first `rows` rows) − Σ_s W_enc[s]·gb_enc[s] (kernels/dense/bdec_grad.ts per slab). */
export async function slabBdecGrad(
  c: StepContext,
  b: { rows: number; dvec: GPUBuffer; gb_enc: GPUBuffer; gb_dec: GPUBuffer },
): Promise<BoundKernel[]> {
  const out: BoundKernel[] = [];
  for (const [j, s] of c.plan.slabs.entries()) {
    const k = await createBdecGrad(c.device, { B: b.rows, D: c.cfg.d_in, S: s.size, lo: s.start, accumulate: j > 0 });
    out.push(k({ dvec: b.dvec, W_enc: c.store.params.W_enc[j], gb_enc: b.gb_enc, gb_dec: b.gb_dec }));
  }
  return out;
}

function copy(src: GPUBuffer, from: number, dst: GPUBuffer, to: number, n: number, label: string): BoundKernel {
  return { label, encode: (e) => e.copyBufferToBuffer(src, from * 4, dst, to * 4, n * 4) };
}
