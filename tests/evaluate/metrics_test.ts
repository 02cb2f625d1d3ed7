import { assertAlmostEquals, assertEquals } from "../assert.ts";
import { FiringAccumulator, ReconstructionAccumulator } from "../../stages/evaluate/metrics.ts";
import { codesFromDense, sliceCodes, type SparseCodes } from "../../stages/evaluate/sparse_codes.ts";
import { mulberry32, randn } from "./fixtures.ts";

function csr(rows: [number, number][][]): SparseCodes {
  const offsets = new Uint32Array(rows.length + 1);
  const idx: number[] = [], val: number[] = [];
  rows.forEach((r, t) => {
    for (const [l, v] of r) {
      idx.push(l);
      val.push(v);
    }
    offsets[t + 1] = idx.length;
  });
  return { n: rows.length, offsets, idx: Uint32Array.from(idx), val: Float32Array.from(val) };
}

Deno.test("reconstruction metrics on a hand-computed case", () => {
  // x1 = (1, 0), x̂1 = (2, 1); x2 = (0, 2), x̂2 = (0, 1); x̄ = (0.5, 1).
  const acc = new ReconstructionAccumulator(2);
  const codes = csr([[[1, 2], [4, 0.5]], [[4, 1], [0, 0]]]);
  acc.add(new Float32Array([1, 0, 0, 2]), new Float32Array([2, 1, 0, 1]), codes);
  const r = acc.result();
  assertEquals(r.n_tokens, 2);
  assertAlmostEquals(r.mse, (2 + 1) / 2, 1e-12); // ‖e1‖² = 2, ‖e2‖² = 1
  assertAlmostEquals(r.mse_per_element, 3 / 4, 1e-12);
  assertAlmostEquals(r.fvu, 3 / 2.5, 1e-12); // Σ‖x − x̄‖² = 1.25 + 1.25
  assertAlmostEquals(r.explained_variance, 1 - 3 / 2.5, 1e-12);
  assertAlmostEquals(r.cosine_similarity, (2 / Math.sqrt(5) + 1) / 2, 1e-12);
  assertAlmostEquals(r.l2_ratio, (Math.sqrt(5) + 0.5) / 2, 1e-12);
  assertAlmostEquals(r.relative_reconstruction_bias, (5 + 1) / (2 + 2), 1e-12);
  assertAlmostEquals(r.l0, 3 / 2, 1e-12); // the explicit zero entry does not count
  assertAlmostEquals(r.l1, (2.5 + 1) / 2, 1e-12);
  const m = acc.mean();
  assertEquals(Array.from(m), [0.5, 1]);
});

Deno.test("reconstruction metrics do not depend on batching and match a two-pass reference", () => {
  const rnd = mulberry32(7);
  const n = 300, d = 12, dSae = 20;
  const x = new Float32Array(n * d).map(() => 5 + randn(rnd)); // a large mean tests the one-pass variance
  const xhat = x.map((v) => v * 0.9 + 0.1 * randn(rnd));
  const dense = new Float32Array(n * dSae).map(() => (rnd() < 0.2 ? rnd() * 3 : 0));
  const codes = codesFromDense(dense, n, dSae);
  const whole = new ReconstructionAccumulator(d);
  whole.add(x, xhat, codes);
  const parts = new ReconstructionAccumulator(d);
  for (const [s, c] of [[0, 1], [1, 150], [151, 149]]) {
    parts.add(x.subarray(s * d, (s + c) * d), xhat.subarray(s * d, (s + c) * d), sliceCodes(codes, s, c));
  }
  const a = whole.result(), b = parts.result();
  for (const k of Object.keys(a) as (keyof typeof a)[]) {
    assertAlmostEquals(b[k], a[k], 1e-9 * Math.max(1, Math.abs(a[k])), k);
  }
  // Two-pass float64 reference.
  const mean = new Float64Array(d);
  for (let t = 0; t < n; t++) for (let j = 0; j < d; j++) mean[j] += x[t * d + j] / n;
  let sse = 0, tv = 0, nnz = 0;
  for (let i = 0; i < n * d; i++) {
    sse += (x[i] - xhat[i]) ** 2;
    tv += (x[i] - mean[i % d]) ** 2;
  }
  for (const v of dense) if (v !== 0) nnz++;
  assertAlmostEquals(a.explained_variance, 1 - sse / tv, 1e-9);
  assertAlmostEquals(a.mse, sse / n, 1e-9);
  assertAlmostEquals(a.l0, nnz / n, 1e-12);
});

Deno.test("firing counts, dead and dense latents, log10 density histogram", () => {
  // 4 tokens, 5 latents: counts c = [0, 1, 4, 2, 0].
  const f = new FiringAccumulator(5);
  f.add(csr([[[2, 1], [1, 0.5]], [[2, 2], [3, 1]], [[2, 0.25], [0, 0]], [[2, 3], [3, 4]]]));
  assertEquals(Array.from(f.fires), [0, 1, 4, 2, 0]);
  assertEquals(Array.from(f.sum), [0, 0.5, 6.25, 5, 0]);
  assertEquals(f.max[2], 3);
  const r = f.result(0.3);
  assertEquals(r.dead_latents, 2);
  assertEquals(r.dense_latents, 2); // frequencies 1 and 0.5 exceed 0.3; 0.25 does not
  assertEquals(f.result(0.1).dense_latents, 3);
  const counts = new Array(50).fill(0);
  counts[0] = 2; // dead: log10(1e-10) = −10
  counts[46] = 1; // log10(0.25) = −0.602 → (9.398 / 10)·50 = 46.99
  counts[48] = 1; // log10(0.5) = −0.301 → 48.49
  counts[49] = 1; // log10(1) = 0 → clamped into the last bin
  assertEquals(r.density_histogram, { min: -10, max: 0, counts });
});
