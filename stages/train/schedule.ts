/**
 * Per-step schedules. Step s counts from 0; T = total steps.
 *   lr(s) = lr · w(s) · decay(s),   w(s) = min(1, (s+1)/warmup)
 *   decay: constant 1; linear (T − s)/(T − warmup); cosine ½(1 + cos(π·(s − warmup)/(T − warmup)))
 *   (decay runs from the end of warmup to 0 at the last step)
 *   sparsity coefficient(s) = coef · min(1, (s+1)/coef_warmup)
 */
export type LrDecay = "constant" | "cosine" | "linear";

export function learningRate(s: number, T: number, lr: number, warmup: number, decay: LrDecay): number {
  const w = warmup > 0 ? Math.min(1, (s + 1) / warmup) : 1;
  if (decay === "constant" || s < warmup) return lr * w;
  const span = Math.max(1, T - warmup);
  const f = Math.min(1, (s - warmup) / span);
  return lr * w * (decay === "linear" ? 1 - f : 0.5 * (1 + Math.cos(Math.PI * f)));
}

export function coefficientWarmup(s: number, coef: number, warmup: number): number {
  return warmup > 0 ? coef * Math.min(1, (s + 1) / warmup) : coef;
}
