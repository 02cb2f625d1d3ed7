import { assertAlmostEquals, assertEquals } from "../assert.ts";
import { ActivationHistograms, weightStats } from "../../stages/evaluate/latent_stats.ts";
import { fixedWidthCodes } from "../../stages/evaluate/sparse_codes.ts";
import { mulberry32 } from "./fixtures.ts";

const one = (l: number, v: number) => fixedWidthCodes(1, 1, Uint32Array.of(l), Float32Array.of(v));

Deno.test("activation histogram: doubling range, hand-computed bins", () => {
  const h = new ActivationHistograms(2, 4);
  // 0.3 → top 0.5 (w 0.125, bin 2); 0.5 → bin 3; 1.7 → top doubles twice to 2 (w 0.5, bin 3); 0.1 → bin 0.
  for (const v of [0.3, 0.5, 1.7, 0.1]) h.add(one(0, Math.fround(v)));
  h.add(one(1, -1)); // non-positive values are not binned
  assertEquals(h.of(0), { counts: [3, 0, 0, 1], max: 2 });
  assertEquals(h.of(1), { counts: [0, 0, 0, 0], max: 0 });
});

Deno.test("activation histogram equals direct binning at the final range, in any order", () => {
  const rnd = mulberry32(3);
  const vals = Array.from({ length: 500 }, () => Math.fround(rnd() ** 3 * 40));
  const bins = 16;
  const a = new ActivationHistograms(1, bins), b = new ActivationHistograms(1, bins);
  for (const v of vals) a.add(one(0, v));
  for (const v of [...vals].reverse()) b.add(one(0, v));
  const max = Math.max(...vals);
  let top = 1;
  while (top < max) top *= 2;
  while (top / 2 >= max) top /= 2;
  const direct = new Array(bins).fill(0);
  for (const v of vals) direct[Math.max(0, Math.ceil(v / (top / bins)) - 1)]++;
  assertEquals(a.of(0), { counts: direct, max: top });
  assertEquals(b.of(0), a.of(0));
});

Deno.test("weight stats: decoder norm and encoder-decoder cosine", () => {
  // d_in 2, d_sae 2. W_enc [2, 2] columns: l0 = (1, 0), l1 = (1, 1); W_dec rows: l0 = (3, 4), l1 = (0, -2).
  const wEnc = new Float32Array([1, 1, 0, 1]);
  const wDec = new Float32Array([3, 4, 0, -2]);
  const s = weightStats(wEnc, wDec, 2, 2);
  assertEquals(Array.from(s.decoderNorm), [5, 2]);
  assertAlmostEquals(s.encDecCosine[0], 3 / 5, 1e-12);
  assertAlmostEquals(s.encDecCosine[1], -2 / (Math.SQRT2 * 2), 1e-12);
});
