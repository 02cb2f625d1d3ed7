import { assertEquals } from "../assert.ts";
import { DType, OnnxGraphBuilder } from "../../stages/model/onnx_builder.ts";
import { extremes, findUnembedding, latentLogits } from "../../stages/inspect/unembed.ts";

/** h = Relu(E[ids]) then logits by `head` (untied MatMul, tied Transpose+MatMul, or Gemm with transB). */
function lm(head: "matmul" | "tied" | "gemm" | "none") {
  const V = 3, d = 2;
  const E = Float32Array.of(1, 2, 3, 4, 5, 6); // [V, d]
  const g = new OnnxGraphBuilder("lm");
  g.input("input_ids", DType.INT64, ["batch", "sequence"]);
  const h = g.op("Relu", [g.op("Gather", [g.initializer("E", E, [V, d]), "input_ids"])], {}, "hook");
  if (head === "matmul") {
    g.op("MatMul", [h, g.initializer("W", Float32Array.of(1, 0, -1, 0, 1, 2), [d, V])], {}, "logits");
  }
  if (head === "tied") g.op("MatMul", [h, g.op("Transpose", ["E"], { perm: [1, 0] })], {}, "logits");
  if (head === "gemm") g.op("Gemm", [h, "E"], { transB: 1 }, "logits");
  if (head === "none") g.output("hook", DType.FLOAT, ["batch", "sequence", d]);
  else g.output("logits", DType.FLOAT, ["batch", "sequence", V]);
  return g.toBytes();
}

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
