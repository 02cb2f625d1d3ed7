/** The TopK family's selected indices against float64 (shared by the split tests of SAEs and transcoders). */
import { assertEquals } from "../assert.ts";
import { INVALID } from "../../kernels/runtime/kernel.ts";
import { topkIndices } from "../../stages/train/sae_cpu.ts";

/**
 * Main entries of each row = the reference's active latents (z > 0); AuxK entries = the top min(auxK, n_dead) dead
 * latents with positive pre-activation. Returns how many rows had fewer than k active latents.
 */
export function assertSelections(
  idx: Uint32Array,
  ref: { pre: Float64Array; z: Float64Array; dead: boolean[] },
  d: { B: number; S: number; cap: number; auxK: number; k: number },
): number {
  const { B, S, cap, auxK, k } = d;
  const nAux = Math.min(auxK, ref.dead.filter((x) => x).length);
  let fewer = 0;
  for (let r = 0; r < B; r++) {
    const got = [...idx.subarray(r * cap, (r + 1) * cap)].filter((i) => i !== INVALID);
    const want = [...Array(S).keys()].filter((i) => ref.z[r * S + i] > 0);
    assertEquals(got.sort((a, b) => a - b), want, `row ${r} main selection`);
    if (want.length < k) fewer++;
    const masked = Array.from(ref.pre.subarray(r * S, (r + 1) * S), (v, i) => (ref.dead[i] ? v : -Infinity));
    const auxWant = topkIndices(masked, nAux).filter((i) => masked[i] > 0).sort((a, b) => a - b);
    const auxGot = [...idx.subarray(B * cap + r * auxK, B * cap + r * auxK + nAux)]
      .filter((i) => i !== INVALID).sort((a, b) => a - b);
    assertEquals(auxGot, auxWant, `row ${r} AuxK selection`);
  }
  return fewer;
}
