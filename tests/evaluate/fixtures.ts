/** Deterministic random numbers for evaluate tests: the same PRNG the pretokenize shuffle uses. */
import { mulberry32 } from "../../stages/pretokenize/shuffle.ts";
export { mulberry32 };

/** A standard normal sample (Box-Muller). */
export function randn(rnd: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rnd())) * Math.cos(2 * Math.PI * rnd());
}
