/**
 * Float64 reference of the Matryoshka levels (definitions in ./arch_matryoshka.ts), for referenceStep:
 * given the selected latents z [B, S] and the full level's gradient dvec = (2/B)(x̂ − x), the inner
 * levels' losses Σ_m mean_t ‖x̂_m − x‖² and, per latent, the gradient rows it receives:
 *   D_g = dvec + Σ_{inner m ≥ g} (2/B)(x̂_m − x) for latents of prefix group g (w_{g−1} ≤ i < w_g),
 * D_{#inner} = dvec for the outermost group.
 */
import type { SaeParams } from "./trainer.ts";

export function referenceMatryoshka(
  p: SaeParams,
  x: ArrayLike<number>,
  z: Float64Array,
  dvec: Float64Array,
  c: { d_in: number; d_sae: number; batch: number; matryoshkaWidths?: number[] },
): { inner: number; blockOf: (i: number) => Float64Array; first: Float64Array } {
  const { d_in: D, d_sae: S, batch: B } = c;
  const widths = (c.matryoshkaWidths ?? []).filter((w) => w < S);
  const blocks = widths.map(() => new Float64Array(B * D));
  let inner = 0;
  for (let t = 0; t < B; t++) {
    let acc = dvec.slice(t * D, (t + 1) * D);
    for (let m = widths.length - 1; m >= 0; m--) {
      const xm = Float64Array.from(p.b_dec);
      for (let i = 0; i < widths[m]; i++) {
        const v = z[t * S + i];
        if (v !== 0) { for (let d = 0; d < D; d++) xm[d] += v * p.W_dec[i * D + d]; }
      }
      acc = acc.map((g, d) => {
        const r = xm[d] - x[t * D + d];
        inner += r * r / B;
        return g + 2 / B * r;
      });
      blocks[m].set(acc, t * D);
    }
  }
  const blockOf = (i: number) => {
    const g = widths.filter((w) => i >= w).length;
    return g >= widths.length ? dvec : blocks[g];
  };
  return { inner, blockOf, first: widths.length ? blocks[0] : dvec };
}
