import { assert, assertAlmostEquals, assertEquals } from "../assert.ts";
import { absorption, type LetterExamples, tokenAbsorption } from "../../stages/evaluate/absorption.ts";
import { firstLetter } from "../../stages/evaluate/probe_sample.ts";
import { Rng } from "../../stages/train/rng.ts";

Deno.test("token absorption: the SAEBench rules by hand", () => {
  const main = new Set([0]);
  // Main latent fires and carries the whole projection: no absorption.
  assertEquals(tokenAbsorption(1.5, [{ latent: 0, act: 3, cos: 0.5, dot: 0.5 }], main), {
    fraction: 0,
    full: false,
    absorber: -1,
  });
  // Main silent; latent 2 (cos 0.5, act 2) projects π = 1 of P = 1.5: A/P = 2/3 ≥ 0.4 and M = 0 → fraction 1;
  // π_top/P = 2/3 ≥ 0.4 and cos ≥ 0.025 → full absorption by latent 2.
  assertEquals(tokenAbsorption(1.5, [{ latent: 2, act: 2, cos: 0.5, dot: 0.5 }], main), {
    fraction: 1,
    full: true,
    absorber: 2,
  });
  // Partial: M = 1·0.5 = 0.5, A = 2·0.5 = 1, P = 1.2: absorbed = min(1, 0.7) = 0.7 → 0.7 / 1.2; main fires → not full.
  const p = tokenAbsorption(
    1.2,
    [{ latent: 0, act: 1, cos: 0.5, dot: 0.5 }, { latent: 3, act: 2, cos: 0.5, dot: 0.5 }],
    main,
  );
  assertAlmostEquals(p.fraction, 0.7 / 1.2, 1e-12);
  assertEquals(p.full, false);
  // The projection uses W_dec·p, not the cosine: a decoder row of norm 2 projects twice as much. Here
  // π = 1·(2·0.3) = 0.6 of P = 1 (A/P = 0.6 ≥ 0.4, M = 0) → fraction 1 and full absorption.
  assertEquals(tokenAbsorption(1, [{ latent: 5, act: 1, cos: 0.3, dot: 0.6 }], main), {
    fraction: 1,
    full: true,
    absorber: 5,
  });
  assertEquals(tokenAbsorption(1, [{ latent: 5, act: 1, cos: 0.3, dot: 0.3 }], main).full, false);
  // A non-main latent below the cosine threshold 0.1 is no absorber: A = 0 → fraction 0.
  assertEquals(tokenAbsorption(1, [{ latent: 4, act: 10, cos: 0.05, dot: 0.05 }], main).fraction, 0);
});

Deno.test("first letter of word-initial pieces", () => {
  assertEquals(["▁apple", "▁Zebra", "Ġcat", "apple", "▁", "▁1st", "▁é"].map(firstLetter), [0, 25, 2, -1, -1, -1, -1]);
});

Deno.test("absorption end to end: a token-specific latent absorbs 'a' on 10 of 100 test tokens", () => {
  // d_in 4; tokens i ≡ L (mod 3) have letter L ∈ {a, b, c} and x ≈ 3·e_L; latent L (W_dec = e_L) is L's main
  // latent. On a-tokens i ≡ 0 (mod 150) latent 0 is silent and latent 3 (W_dec = e0) fires instead; those
  // tokens are all in the test split (i ≡ 0 mod 5), so latent 3 never fires in training and a's main latents
  // are [0]. The a-probe direction is ≈ (2e0 − e1 − e2)/√6, so for an absorbed token P = x·p ≈ 3·2/√6 and
  // π_3 = 3·cos(e0, p) ≈ the same: π/P ≈ 1 → full absorption. a: 10 of 100 true positives; b, c: none.
  const rng = new Rng(11), n = 1500, d = 4, dSae = 4;
  const x = new Float32Array(n * d), letter = new Uint8Array(n), test = new Uint8Array(n);
  const offsets = [0], idx: number[] = [], val: number[] = [];
  for (let i = 0; i < n; i++) {
    const L = i % 3;
    letter[i] = L;
    test[i] = i % 5 === 0 ? 1 : 0;
    for (let j = 0; j < d; j++) x[i * d + j] = rng.normal() * 0.1 + (j === L ? 3 : 0);
    idx.push(i % 150 === 0 ? 3 : L);
    val.push(3);
    offsets.push(idx.length);
  }
  const ex: LetterExamples = {
    n,
    dIn: d,
    x,
    offsets: Uint32Array.from(offsets),
    idx: Uint32Array.from(idx),
    val: Float32Array.from(val),
    letter,
    test,
  };
  const wDec = Float64Array.of(1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 0);
  const { rows, summary } = absorption(ex, wDec, dSae);
  const a = rows.find((r) => r.letter === "a")!, b = rows.find((r) => r.letter === "b")!;
  assertEquals(a.main_latents, [0]);
  assertEquals(b.main_latents, [1]);
  assertEquals(a.true_positives, 100);
  assertEquals(a.full_absorptions, 10);
  assertAlmostEquals(a.full_absorption_rate, 0.1, 1e-12);
  assertAlmostEquals(a.mean_absorption_fraction, 0.1, 1e-12);
  assertEquals(a.absorbers, [3]);
  assertEquals(a.absorber_counts, [10]);
  assertEquals(b.full_absorptions, 0);
  assertEquals(b.mean_absorption_fraction, 0);
  assert(a.probe_f1 > 0.99 && b.probe_f1 > 0.99);
  assertEquals(summary.letters, 3);
  assertAlmostEquals(summary.mean_full_absorption_rate, 0.1 / 3, 1e-12);
  assertAlmostEquals(summary.mean_main_latents, 1, 1e-12);
});
