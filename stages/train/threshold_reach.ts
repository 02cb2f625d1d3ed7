/**
 * How far JumpReLU's thresholds can travel in a run. Adam moves a parameter whose gradient keeps its
 * sign by about lr per step, so a log-threshold moves at most about
 *   reach = Σ_s lr(s)   (the run's learning-rate schedule, ./schedule.ts)
 * and a threshold ends within a factor e^reach of jumprelu_init_threshold. On the default run (720
 * steps at lr 0.004, cosine) e^reach ≈ 4.2, far less than the encoder's growth, which is why JumpReLU
 * there needs its thresholds started near their final value.
 */
import { learningRate, type LrDecay } from "./schedule.ts";

export function thresholdReach(steps: number, lr: number, warmup: number, decay: LrDecay): number {
  let reach = 0;
  for (let s = 0; s < steps; s++) reach += learningRate(s, steps, lr, warmup, decay);
  return reach;
}

/** Below this factor (e^reach) the trainer says in one line how little the thresholds can move. */
export const SHORT_REACH_FACTOR = 10;

/** The one-line notice for a run whose thresholds can move less than SHORT_REACH_FACTOR×, else undefined. */
export function shortReachNotice(reach: number, initThreshold: number): string | undefined {
  const f = Math.exp(reach);
  if (f >= SHORT_REACH_FACTOR) return undefined;
  const lo = initThreshold / f, hi = initThreshold * f;
  return `jumprelu: log-thresholds move about lr per step, so over this run's lr schedule (Σ lr = ${
    reach.toFixed(2)
  }) ` +
    `they stay within ${lo.toPrecision(2)}–${hi.toPrecision(2)} (×${f.toFixed(1)} of jumprelu_init_threshold ` +
    `${initThreshold}); if L0 stays far from the target, start them nearer, or train longer`;
}
