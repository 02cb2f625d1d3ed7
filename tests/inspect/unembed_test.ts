import { assertEquals } from "../assert.ts";
import { type LmHead, tinyLmGraph } from "../fixtures/tiny_lm.ts";
import { extremes, findUnembedding, latentLogits } from "../../stages/inspect/unembed.ts";

const lm = (head: LmHead) =>
  tinyLmGraph(Float32Array.of(1, 2, 3, 4, 5, 6), Float32Array.of(1, 0, -1, 0, 1, 2), 3, 2, head);

Deno.test("unembedding: untied, tied (Transpose) and Gemm heads; none for an encoder", () => {
  assertEquals(findUnembedding(lm("matmul")), { d: 2, vocab: 3, W: Float32Array.of(1, 0, -1, 0, 1, 2) });
  // Tied: W_U = Eᵀ = [[1, 3, 5], [2, 4, 6]].
  const eT = { d: 2, vocab: 3, W: Float32Array.of(1, 3, 5, 2, 4, 6) };
  assertEquals(findUnembedding(lm("tied")), eT);
  assertEquals(findUnembedding(lm("gemm")), eT);
  assertEquals(typeof findUnembedding(lm("none")), "string");
});

Deno.test("latent logits and extremes by hand", () => {
  // W_dec row 1 = (1, −1); W_U = [[1, 0, −1], [0, 1, 2]] → logits (1, −1, −3).
  const u = { d: 2, vocab: 3, W: Float32Array.of(1, 0, -1, 0, 1, 2) };
  const lg = latentLogits(Float32Array.of(9, 9, 1, -1), 1, u);
  assertEquals(Array.from(lg), [1, -1, -3]);
  assertEquals(extremes(lg, 2), { boosted: [[0, 1], [1, -1]], suppressed: [[2, -3], [1, -1]] });
});
