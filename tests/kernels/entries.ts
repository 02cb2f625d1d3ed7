/** Random sparse entries for the sparse-kernel tests. */
import type { Rng } from "../../stages/train/rng.ts";

const INVALID = 0xffffffff;

/** Random entries: latents uniform in [0, S) (repeats allowed), ~10% INVALID, values ≥ 0.05. */
export function randomEntries(r: Rng, rows: number, S: number, cap: number) {
  const idx = new Uint32Array(rows * cap);
  const val = new Float32Array(rows * cap);
  for (let t = 0; t < rows; t++) {
    for (let s = 0; s < cap; s++) {
      idx[t * cap + s] = r.next() < 0.1 ? INVALID : r.int(S);
      val[t * cap + s] = Math.abs(r.normal()) + 0.05;
    }
  }
  return { idx, val };
}
