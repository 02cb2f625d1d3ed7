/**
 * Which token label (a POS tag, a genre) each latent is most associated with. Streaming co-occurrence
 * counts n_{l,T} = #{t : f_t,l ≠ 0 ∧ label(t) = T} from the sparse codes (O(N·k)), plus the label
 * totals n_T and firing counts c_l. At the end, for each latent and label:
 *   precision(l, T) = n_{l,T} / c_l        (of the tokens where l fires, the share labelled T)
 *   recall(l, T)    = n_{l,T} / n_T        (of the tokens labelled T, the share where l fires)
 *   F1(l, T)        = 2·P·R / (P + R)
 * and the label with the highest F1 is the latent's best label (ties: the lower label index).
 */
import type { SparseCodes } from "./sparse_codes.ts";

export interface LabelAssociation {
  /** Best label index per latent (−1 when the latent never fired on a labelled token). */
  label: Int32Array;
  precision: Float64Array;
  recall: Float64Array;
  f1: Float64Array;
}

export class LabelCooccurrence {
  readonly cooc: Uint32Array;
  readonly labelTotals: Float64Array;
  readonly fires: Float64Array;

  /** `none` is the label value meaning "no label" (0xFFFF for tags, 255 for genres). */
  constructor(readonly dSae: number, readonly nLabels: number, readonly none: number) {
    this.cooc = new Uint32Array(dSae * nLabels);
    this.labelTotals = new Float64Array(nLabels);
    this.fires = new Float64Array(dSae);
  }

  /** `labels[t]` is the label of row t of `codes`. */
  add(codes: SparseCodes, labels: ArrayLike<number>): void {
    const L = this.nLabels;
    for (let t = 0; t < codes.n; t++) {
      const lab = labels[t];
      const has = lab !== this.none && lab < L;
      if (has) this.labelTotals[lab]++;
      for (let e = codes.offsets[t]; e < codes.offsets[t + 1]; e++) {
        if (codes.val[e] === 0) continue;
        const l = codes.idx[e];
        this.fires[l]++;
        if (has) this.cooc[l * L + lab]++;
      }
    }
  }

  result(): LabelAssociation {
    const { dSae, nLabels: L } = this;
    const label = new Int32Array(dSae).fill(-1);
    const precision = new Float64Array(dSae), recall = new Float64Array(dSae), f1 = new Float64Array(dSae);
    for (let l = 0; l < dSae; l++) {
      const c = this.fires[l];
      if (c === 0) continue;
      for (let T = 0; T < L; T++) {
        const both = this.cooc[l * L + T];
        if (both === 0) continue;
        const p = both / c, r = both / this.labelTotals[T], f = (2 * p * r) / (p + r);
        if (f > f1[l]) {
          label[l] = T;
          precision[l] = p;
          recall[l] = r;
          f1[l] = f;
        }
      }
    }
    return { label, precision, recall, f1 };
  }
}
