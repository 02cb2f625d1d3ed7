/**
 * Per-latent statistics for `latents.parquet` that are not reconstruction metrics: a streaming
 * activation histogram per latent, and properties of the weights (decoder norm, encoder-decoder cosine).
 */
import type { SparseCodes } from "./sparse_codes.ts";

/**
 * Per-latent histogram of positive activations in `bins` equal bins over (0, top_l], where top_l is the
 * smallest power of two ≥ the latent's largest activation. Bin j holds v ∈ (j·w, (j+1)·w], w = top_l/bins.
 * Streaming: when a value exceeds top_l, adjacent bin pairs merge and top_l doubles. Because the edges
 * nest (w is a power of two divided by a power of two), the result is exactly the histogram one would get
 * binning every value at the final range, whatever the order of the tokens. O(1) per firing.
 */
export class ActivationHistograms {
  readonly counts: Uint32Array;
  readonly top: Float64Array;

  constructor(readonly dSae: number, readonly bins = 16) {
    if (bins < 2 || (bins & (bins - 1)) !== 0) {
      throw new Error(`activation histogram: bins must be a power of two ≥ 2, got ${bins}`);
    }
    this.counts = new Uint32Array(dSae * bins);
    this.top = new Float64Array(dSae);
  }

  add(codes: SparseCodes): void {
    const { idx, val, offsets } = codes;
    for (let e = offsets[0]; e < offsets[codes.n]; e++) {
      const v = val[e];
      if (v > 0) this.#push(idx[e], v);
    }
  }

  #push(l: number, v: number): void {
    const B = this.bins, base = l * B;
    let top = this.top[l];
    if (top === 0) {
      top = 2 ** Math.ceil(Math.log2(v));
      if (top < v) top *= 2;
      if (top / 2 >= v) top /= 2;
    }
    while (v > top) {
      const c = this.counts;
      for (let i = 0; i < B / 2; i++) c[base + i] = c[base + 2 * i] + c[base + 2 * i + 1];
      c.fill(0, base + B / 2, base + B);
      top *= 2;
    }
    this.top[l] = top;
    const j = Math.max(0, Math.ceil(v / (top / B)) - 1);
    this.counts[base + j]++;
  }

  /** The histogram of latent `l` (counts per bin) and its upper edge top_l (0 when it never fired). */
  of(l: number): { counts: number[]; max: number } {
    return { counts: Array.from(this.counts.subarray(l * this.bins, (l + 1) * this.bins)), max: this.top[l] };
  }
}

export interface WeightStats {
  /** decoder_norm_l = ‖W_dec[l, :]‖₂. */
  decoderNorm: Float64Array;
  /** enc_dec_cosine_l = W_enc[:, l]·W_dec[l, :] / (‖W_enc[:, l]‖ ‖W_dec[l, :]‖) (0 when a norm is 0). */
  encDecCosine: Float64Array;
}

/** Decoder norms and encoder-decoder cosines from `W_enc` [d_in, d_sae] and `W_dec` [d_sae, d_in]. */
export function weightStats(wEnc: Float32Array, wDec: Float32Array, dIn: number, dSae: number): WeightStats {
  if (wEnc.length !== dIn * dSae || wDec.length !== dIn * dSae) {
    throw new Error(
      `weight stats: W_enc/W_dec sizes ${wEnc.length}/${wDec.length} do not match d_in ${dIn} × d_sae ${dSae}`,
    );
  }
  const encSq = new Float64Array(dSae), dot = new Float64Array(dSae), decSq = new Float64Array(dSae);
  for (let i = 0; i < dIn; i++) {
    const row = i * dSae;
    for (let l = 0; l < dSae; l++) {
      const e = wEnc[row + l], dv = wDec[l * dIn + i];
      encSq[l] += e * e;
      dot[l] += e * dv;
      decSq[l] += dv * dv;
    }
  }
  const decoderNorm = decSq.map(Math.sqrt);
  const encDecCosine = dot.map((v, l) => {
    const den = Math.sqrt(encSq[l] * decSq[l]);
    return den > 0 ? v / den : 0;
  });
  return { decoderNorm, encDecCosine };
}
