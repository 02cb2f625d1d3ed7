import { assertEquals } from "../assert.ts";
import { lensEntries, logitLens } from "../../stages/model/logit_lens.ts";

Deno.test("logit lens by hand: W_dec · W_U, top and bottom tokens, ties to the lower id", () => {
  // W_U = [[1, 0, -1, 1], [0, 1, 2, 0]] (d 2, vocab 4).
  // latent 1 = (1, -1): e = (1, -1, -3, 1) -> boosted [0: 1, 3: 1] (tie, lower id first), suppressed [2: -3, 1: -1]
  // latent 2 = (0, 2):  e = (0, 2, 4, 0)   -> boosted [2: 4, 1: 2], suppressed [0: 0, 3: 0]
  const u = { d: 2, vocab: 4, W: Float32Array.of(1, 0, -1, 1, 0, 1, 2, 0) };
  const wDec = Float32Array.of(9, 9, 1, -1, 0, 2);
  const lens = logitLens(wDec, u, 2, [1, 2]);
  assertEquals(lensEntries(lens, 0), { boosted: [[0, 1], [3, 1]], suppressed: [[2, -3], [1, -1]] });
  assertEquals(lensEntries(lens, 1), { boosted: [[2, 4], [1, 2]], suppressed: [[0, 0], [3, 0]] });
  // n above the vocabulary keeps every token once
  assertEquals(lensEntries(logitLens(wDec, u, 9, [2]), 0).boosted.map(([t]) => t), [2, 1, 0, 3]);
});

/** Seeded uniform in [-1, 1). */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

Deno.test("logit lens matches a float64 full-sort reference on random weights, every block size", () => {
  const r = rng(7), d = 5, V = 37, dSae = 11, n = 4;
  const u = { d, vocab: V, W: Float32Array.from({ length: d * V }, r) };
  const wDec = Float32Array.from({ length: dSae * d }, r);
  const latents = [10, 0, 3, 4, 5, 6, 7, 8, 9, 1, 2];
  const want = latents.map((l) => {
    const e = Array.from({ length: V }, (_, t) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += wDec[l * d + j] * u.W[j * V + t];
      return s;
    });
    const ids = e.map((_, t) => t);
    const up = [...ids].sort((a, b) => e[b] - e[a] || a - b).slice(0, n);
    const down = [...ids].sort((a, b) => e[a] - e[b] || a - b).slice(0, n);
    return { up, down, e };
  });
  for (const block of [1, 3, 4, 11, 100]) {
    const lens = logitLens(wDec, u, n, latents, block);
    latents.forEach((_, i) => {
      const got = lensEntries(lens, i), w = want[i];
      assertEquals(got.boosted.map(([t]) => t), w.up, `block ${block}, latent ${latents[i]}`);
      assertEquals(got.suppressed.map(([t]) => t), w.down, `block ${block}, latent ${latents[i]}`);
      for (const [t, v] of [...got.boosted, ...got.suppressed]) {
        if (Math.abs(v - w.e[t]) > 1e-12) throw new Error(`block ${block}: e[${t}] = ${v}, want ${w.e[t]}`);
      }
    });
  }
});
