/**
 * What the evaluate stage needs from an SAE: sparse codes of a batch (`encode`) and the reconstruction
 * from those codes (`decode`, a sparse gather of decoder rows: O(n·k·d_in)). The CPU runner uses the
 * float64 reference in stages/train/sae_cpu.ts (exact, slow: for small SAEs and as the fallback).
 */
import { activate, preActivations, type SaeConfig, type SaeWeights } from "../train/sae_cpu.ts";
import type { SparseCodes } from "./sparse_codes.ts";

export interface SaeRunner {
  readonly dIn: number;
  readonly dSae: number;
  /** The largest batch `encode` accepts. */
  readonly maxRows: number;
  /** Sparse codes of `n` rows of `x` ([n, d_in] row-major). */
  encode(x: Float32Array, n: number): Promise<SparseCodes>;
  dispose(): void;
}

/** x̂_t = b_dec + Σ_{(l, v) ∈ codes_t} v · W_dec[l, :], as float32 [n, d_in]. */
export function decodeSparse(weights: SaeWeights, dIn: number, codes: SparseCodes): Float32Array {
  const out = new Float32Array(codes.n * dIn);
  const acc = new Float64Array(dIn);
  const W = weights.W_dec, b = weights.b_dec;
  for (let t = 0; t < codes.n; t++) {
    for (let d = 0; d < dIn; d++) acc[d] = b[d];
    for (let e = codes.offsets[t]; e < codes.offsets[t + 1]; e++) {
      const v = codes.val[e];
      if (v === 0) continue;
      const r = codes.idx[e] * dIn;
      for (let d = 0; d < dIn; d++) acc[d] += v * W[r + d];
    }
    out.set(acc, t * dIn);
  }
  return out;
}

/** The float64 CPU reference as a runner (dense pre-activations per batch, then the non-zeros as CSR). */
export function cpuRunner(weights: SaeWeights, cfg: SaeConfig): SaeRunner {
  const dSae = cfg.d_sae;
  return {
    dIn: cfg.d_in,
    dSae,
    maxRows: Infinity,
    encode(x: Float32Array, n: number): Promise<SparseCodes> {
      const z = activate(cfg, preActivations(weights, cfg, x, n), weights.threshold);
      const offsets = new Uint32Array(n + 1);
      let nnz = 0;
      for (const v of z) if (v !== 0) nnz++;
      const idx = new Uint32Array(nnz), val = new Float32Array(nnz);
      let e = 0;
      for (let t = 0; t < n; t++) {
        for (let l = 0; l < dSae; l++) {
          const v = z[t * dSae + l];
          if (v !== 0) {
            idx[e] = l;
            val[e++] = v;
          }
        }
        offsets[t + 1] = e;
      }
      return Promise.resolve({ n, offsets, idx, val });
    },
    dispose() {},
  };
}
