import { assert, assertAlmostEquals, assertEquals, assertThrows } from "../assert.ts";
import { cholesky, choleskySolve, fitRidgeProbes, ridgeScores } from "../../stages/evaluate/ridge.ts";
import { Rng } from "../../stages/train/rng.ts";

Deno.test("ridge probes: 1-D two-class case by hand", () => {
  // x = 0 1 2 3, classes 0 0 1 1, λ = 1: μ = 1.5, Σ(x − μ)² = 5 → G = 6; Xcᵀy₁ = 0.5 + 1.5 = 2 → w₁ = 1/3,
  // w₀ = −1/3; b₁ = 0.5 − 1.5/3 = 0, b₀ = 0.5 + 1.5/3 = 1.
  const p = fitRidgeProbes(Float64Array.of(0, 1, 2, 3), 4, 1, [0, 0, 1, 1], 2);
  assertAlmostEquals(p.W[0], -1 / 3, 1e-12);
  assertAlmostEquals(p.W[1], 1 / 3, 1e-12);
  assertAlmostEquals(p.b[0], 1, 1e-12);
  assertAlmostEquals(p.b[1], 0, 1e-12);
  const s = ridgeScores(p, Float64Array.of(0, 3), 2);
  assert(s[0] > s[1] && s[3] > s[2]);
});

Deno.test("ridge probes satisfy the normal equations on random data", () => {
  const rng = new Rng(2), n = 60, d = 5, C = 3, l2 = 0.7;
  const X = new Float64Array(n * d).map(() => rng.normal() + 2);
  const y = Array.from({ length: n }, () => rng.int(C));
  const p = fitRidgeProbes(X, n, d, y, C, l2);
  const mu = Array.from({ length: d }, (_, j) => X.filter((_, i) => i % d === j).reduce((a, v) => a + v, 0) / n);
  // (XcᵀXc + λI)·w_c = Xcᵀ·1[y = c], checked column by column in plain loops.
  for (let c = 0; c < C; c++) {
    for (let j = 0; j < d; j++) {
      let lhs = l2 * p.W[j * C + c], rhs = 0;
      for (let i = 0; i < n; i++) {
        let xw = 0;
        for (let k = 0; k < d; k++) xw += (X[i * d + k] - mu[k]) * p.W[k * C + c];
        lhs += (X[i * d + j] - mu[j]) * xw;
        rhs += (X[i * d + j] - mu[j]) * (y[i] === c ? 1 : 0);
      }
      assertAlmostEquals(lhs, rhs, 1e-9);
    }
  }
});

Deno.test("cholesky solve by hand and a clear error on an indefinite matrix", () => {
  // A = [[4, 2], [2, 5]]: L = [[2, 0], [1, 2]]; A·x = (8, 12) has x = (1, 2).
  const L = cholesky(Float64Array.of(4, 2, 2, 5), 2);
  assertEquals(Array.from(L), [2, 0, 1, 2]);
  const x = choleskySolve(L, 2, Float64Array.of(8, 12));
  assertAlmostEquals(x[0], 1, 1e-12);
  assertAlmostEquals(x[1], 2, 1e-12);
  assertThrows(() => cholesky(Float64Array.of(1, 2, 2, 1), 2));
});
