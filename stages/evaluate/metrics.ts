/**
 * Reconstruction and sparsity metrics of an SAE on held-out activations, as streaming accumulators:
 * feed batches once (`add`), read the result at the end. All sums are float64, so the result does not
 * depend on how the tokens were batched. Notation: x_t ∈ ℝ^d the activation of token t (t = 1..N),
 * x̂_t the SAE reconstruction, f_t ∈ ℝ^{d_sae} the latent activations, x̄ = (1/N) Σ_t x_t.
 */
import type { SparseCodes } from "./sparse_codes.ts";

export interface ReconstructionResult {
  n_tokens: number;
  /** mse = (1/N) Σ_t ‖x_t − x̂_t‖² (squared error summed over dimensions, averaged over tokens). */
  mse: number;
  /** mse_per_element = mse / d (the mean over every scalar, as `F.mse_loss` reports it). */
  mse_per_element: number;
  /** fvu (normalised MSE, fraction of variance unexplained) = Σ_t ‖x_t − x̂_t‖² / Σ_t ‖x_t − x̄‖². */
  fvu: number;
  /** explained_variance = 1 − fvu = 1 − Σ_t ‖x_t − x̂_t‖² / Σ_t ‖x_t − x̄‖². */
  explained_variance: number;
  /** cosine_similarity = (1/N') Σ_t x_t·x̂_t / (‖x_t‖ ‖x̂_t‖), over the N' tokens with both norms > 0. */
  cosine_similarity: number;
  /** l2_ratio = (1/N') Σ_t ‖x̂_t‖ / ‖x_t‖, over the N' tokens with ‖x_t‖ > 0. */
  l2_ratio: number;
  /**
   * relative_reconstruction_bias γ = Σ_t ‖x̂_t‖² / Σ_t x_t·x̂_t: the optimal scale in
   * argmin_γ Σ‖x̂_t/γ − x_t‖²; γ < 1 means the SAE shrinks its reconstructions (Wright & Sharkey).
   */
  relative_reconstruction_bias: number;
  /** l0 = (1/N) Σ_t #{l : f_t,l ≠ 0}, the mean number of active latents per token. */
  l0: number;
  /** l1 = (1/N) Σ_t Σ_l |f_t,l|. */
  l1: number;
}

/** One-pass accumulator of the reconstruction metrics above. */
export class ReconstructionAccumulator {
  #n = 0;
  #sse = 0;
  /** Shifted sums for the total variance: with s = the first row, Σ(x−s) and Σ‖x−s‖² (stable in float64). */
  #shift: Float64Array | null = null;
  #sumShifted: Float64Array;
  #sumSqShifted = 0;
  #cosSum = 0;
  #cosN = 0;
  #ratioSum = 0;
  #ratioN = 0;
  #xhatSq = 0;
  #xDotXhat = 0;
  #nnz = 0;
  #l1 = 0;

  constructor(readonly dIn: number) {
    this.#sumShifted = new Float64Array(dIn);
  }

  /** Add `n` tokens: activations `x` and reconstructions `xhat` ([n, d] row-major), their sparse codes. */
  add(x: Float32Array, xhat: Float32Array, codes: SparseCodes): void {
    const d = this.dIn, n = codes.n;
    if (x.length !== n * d || xhat.length !== n * d) {
      throw new Error(`reconstruction metrics: expected ${n}×${d} values, got x ${x.length}, x̂ ${xhat.length}`);
    }
    if (n === 0) return;
    if (!this.#shift) this.#shift = Float64Array.from(x.subarray(0, d));
    const s = this.#shift, sum = this.#sumShifted;
    for (let t = 0; t < n; t++) {
      let err = 0, xx = 0, hh = 0, xh = 0, sq = 0;
      for (let j = t * d, c = 0; c < d; j++, c++) {
        const a = x[j], b = xhat[j], e = a - b, u = a - s[c];
        err += e * e;
        xx += a * a;
        hh += b * b;
        xh += a * b;
        sum[c] += u;
        sq += u * u;
      }
      this.#sse += err;
      this.#sumSqShifted += sq;
      this.#xhatSq += hh;
      this.#xDotXhat += xh;
      if (xx > 0) {
        this.#ratioSum += Math.sqrt(hh / xx);
        this.#ratioN++;
        if (hh > 0) {
          this.#cosSum += xh / Math.sqrt(xx * hh);
          this.#cosN++;
        }
      }
    }
    for (let e = codes.offsets[0]; e < codes.offsets[n]; e++) {
      const v = codes.val[e];
      if (v !== 0) {
        this.#nnz++;
        this.#l1 += Math.abs(v);
      }
    }
    this.#n += n;
  }

  /** Σ_t ‖x_t − x̄‖² = Σ‖x−s‖² − ‖Σ(x−s)‖² / N. */
  #totalVariance(): number {
    let m = 0;
    for (const v of this.#sumShifted) m += v * v;
    return this.#sumSqShifted - m / this.#n;
  }

  /** The mean activation x̄ seen so far (for mean-ablation). */
  mean(): Float64Array {
    const out = new Float64Array(this.dIn);
    if (!this.#shift) return out;
    for (let c = 0; c < this.dIn; c++) out[c] = this.#shift[c] + this.#sumShifted[c] / this.#n;
    return out;
  }

  result(): ReconstructionResult {
    const n = this.#n;
    if (n === 0) throw new Error("reconstruction metrics: no tokens were added");
    const fvu = this.#sse / this.#totalVariance();
    return {
      n_tokens: n,
      mse: this.#sse / n,
      mse_per_element: this.#sse / (n * this.dIn),
      fvu,
      explained_variance: 1 - fvu,
      cosine_similarity: this.#cosN ? this.#cosSum / this.#cosN : NaN,
      l2_ratio: this.#ratioN ? this.#ratioSum / this.#ratioN : NaN,
      relative_reconstruction_bias: this.#xhatSq / this.#xDotXhat,
      l0: this.#nnz / n,
      l1: this.#l1 / n,
    };
  }
}

export interface FiringResult {
  /** dead_latents = #{l : c_l = 0}, where c_l = #{t : f_t,l ≠ 0} counts the tokens latent l fires on. */
  dead_latents: number;
  /** dense_latents = #{l : c_l / N > threshold} (threshold 0.1 by default). */
  dense_latents: number;
  dense_threshold: number;
  /**
   * Histogram of log10(c_l / N + 1e-10) over all latents (the SAELens sparsity convention), in
   * `counts.length` equal bins over [`min`, `max`]; dead latents fall in the first bin (−10).
   */
  density_histogram: { min: number; max: number; counts: number[] };
}

/**
 * One-pass per-latent firing counts c_l, activation sums Σ_t f_t,l and maxima max_t f_t,l, read from
 * the sparse codes in O(N·k) (never a dense tokens × latents loop).
 */
export class FiringAccumulator {
  readonly fires: Float64Array;
  readonly sum: Float64Array;
  readonly max: Float32Array;
  n = 0;

  constructor(readonly dSae: number) {
    this.fires = new Float64Array(dSae);
    this.sum = new Float64Array(dSae);
    this.max = new Float32Array(dSae).fill(-Infinity);
  }

  add(codes: SparseCodes): void {
    const { idx, val, offsets } = codes;
    for (let e = offsets[0]; e < offsets[codes.n]; e++) {
      const v = val[e];
      if (v === 0) continue;
      const l = idx[e];
      if (l >= this.dSae) throw new Error(`sparse codes: latent index ${l} out of range (d_sae ${this.dSae})`);
      this.fires[l]++;
      this.sum[l] += v;
      if (v > this.max[l]) this.max[l] = v;
    }
    this.n += codes.n;
  }

  /** Firing frequency c_l / N of each latent. */
  frequency(): Float64Array {
    return this.fires.map((c) => c / this.n);
  }

  result(denseThreshold = 0.1, bins = 50, min = -10, max = 0): FiringResult {
    if (this.n === 0) throw new Error("firing metrics: no tokens were added");
    let dead = 0, dense = 0;
    const counts = new Array<number>(bins).fill(0);
    for (const c of this.fires) {
      const p = c / this.n;
      if (c === 0) dead++;
      if (p > denseThreshold) dense++;
      const b = Math.floor(((Math.log10(p + 1e-10) - min) / (max - min)) * bins);
      counts[Math.min(bins - 1, Math.max(0, b))]++;
    }
    return {
      dead_latents: dead,
      dense_latents: dense,
      dense_threshold: denseThreshold,
      density_histogram: { min, max, counts },
    };
  }
}
