import { assert, assertAlmostEquals, assertEquals } from "../assert.ts";
import { binaryScores, decisionValues, fitLogistic, sigmoid } from "../../stages/evaluate/logistic.ts";
import { Rng } from "../../stages/train/rng.ts";

Deno.test("logistic: symmetric 1-D case matches the hand-solved optimum", () => {
  // x = −1 (y 0) and x = +1 (y 1), λ = 1: by symmetry b = 0 and L(w) = 2·log(1 + e^{−w}) + w²/2, so
  // dL/dw = −2/(1 + e^{w}) + w = 0, i.e. w = 2/(1 + e^w): w* ≈ 0.67490 (bisection by hand on that equation).
  const m = fitLogistic(Float64Array.of(-1, 1), 2, 1, Uint8Array.of(0, 1));
  assertAlmostEquals(m.b, 0, 1e-9);
  assertAlmostEquals(m.w[0], 2 / (1 + Math.exp(m.w[0])), 1e-9);
  assertAlmostEquals(m.w[0], 0.6749, 1e-3);
});

Deno.test("logistic: intercept-only fit is the log-odds of the labels", () => {
  // No features: L(b) = Σ softplus(b) − y b is minimised at σ(b) = mean(y) = 3/4, b = log 3.
  const m = fitLogistic(new Float64Array(0), 4, 0, Uint8Array.of(1, 1, 1, 0));
  assertAlmostEquals(m.b, Math.log(3), 1e-8);
});

Deno.test("logistic: random data reaches a stationary point of the regularised loss", () => {
  const rng = new Rng(7), rnd = () => rng.next(), n = 300, d = 12, l2 = 0.5;
  const X = new Float64Array(n * d).map(() => rnd() * 2 - 1);
  const wTrue = Float64Array.from({ length: d }, (_, j) => (j % 3) - 1);
  const y = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let z = 0.3;
    for (let j = 0; j < d; j++) z += X[i * d + j] * wTrue[j];
    y[i] = rnd() < sigmoid(2 * z) ? 1 : 0;
  }
  const m = fitLogistic(X, n, d, y, { l2 });
  // Gradient in float64, computed independently of the solver.
  const g = new Float64Array(d + 1);
  for (let i = 0; i < n; i++) {
    let z = m.b;
    for (let j = 0; j < d; j++) z += X[i * d + j] * m.w[j];
    const r = sigmoid(z) - y[i];
    for (let j = 0; j < d; j++) g[j] += X[i * d + j] * r;
    g[d] += r;
  }
  for (let j = 0; j < d; j++) g[j] += l2 * m.w[j];
  for (const v of g) assert(Math.abs(v) < 1e-4, `gradient component ${v} is not ~0`);
  // The fitted direction agrees with the generating one.
  let dot = 0, nw = 0, nt = 0;
  for (let j = 0; j < d; j++) {
    dot += m.w[j] * wTrue[j];
    nw += m.w[j] ** 2;
    nt += wTrue[j] ** 2;
  }
  assert(dot / Math.sqrt(nw * nt) > 0.9, `cosine ${dot / Math.sqrt(nw * nt)}`);
  // Same inputs, same bytes.
  assertEquals(fitLogistic(X, n, d, y, { l2 }).w, m.w);
});

Deno.test("logistic: separable data stays finite under the penalty", () => {
  const m = fitLogistic(Float64Array.of(-2, -1, 1, 2), 4, 1, Uint8Array.of(0, 0, 1, 1));
  assert(Number.isFinite(m.w[0]) && m.w[0] > 0);
  assertEquals(binaryScores(Uint8Array.of(0, 0, 1, 1), decisionValues(m, Float64Array.of(-2, -1, 1, 2), 4, 1)), {
    accuracy: 1,
    f1: 1,
  });
});

Deno.test("binary scores: accuracy and F1 by hand", () => {
  // y = 1 1 0 0 0, predicted 1 0 1 0 0: TP 1, FN 1, FP 1, TN 2 → accuracy 3/5, F1 = 2/(2+1+1) = 0.5.
  const s = binaryScores(Uint8Array.of(1, 1, 0, 0, 0), Float64Array.of(1, -1, 2, -3, -0.5));
  assertAlmostEquals(s.accuracy, 0.6, 1e-12);
  assertAlmostEquals(s.f1, 0.5, 1e-12);
});

Deno.test("logistic: a constant offset on the features only moves the intercept", () => {
  const rng = new Rng(5), n = 120, d = 3;
  const X = new Float64Array(n * d).map(() => rng.normal());
  const y = Uint8Array.from({ length: n }, (_, i) => (X[i * d] - X[i * d + 2] + rng.normal() > 0 ? 1 : 0));
  const a = fitLogistic(X, n, d, y), b = fitLogistic(X.map((v) => v + 100), n, d, y);
  for (let j = 0; j < d; j++) assertAlmostEquals(b.w[j], a.w[j], 1e-7);
  // z = (x + 100)·w + b' = x·w + b  ⇒  b' = b − 100·Σw.
  assertAlmostEquals(b.b, a.b - 100 * a.w.reduce((s, v) => s + v, 0), 1e-5);
});
