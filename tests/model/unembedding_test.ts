import { assert, assertEquals } from "../assert.ts";
import * as ort from "onnxruntime-node";
import { decodeSafetensors } from "../../stages/io/safetensors.ts";
import { type LmHead, tinyLmGraph } from "../fixtures/tiny_lm.ts";
import { findUnembedding } from "../../stages/model/unembedding.ts";

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

/**
 * On PyTorch's own ONNX exports (data/fixtures/torch_exports: GPT-2, Llama, GPT-NeoX style), the unembedding found
 * in the graph reproduces the model's logits from PyTorch's recorded final-norm output: logits = ln_final · W_U.
 */
const exportsDir = new URL("../../data/fixtures/torch_exports/", import.meta.url).pathname;
for (const family of ["gpt2", "llama", "neox"]) {
  Deno.test(`unembedding of the ${family} torch export gives its logits from ln_final`, async () => {
    const bytes = await Deno.readFile(`${exportsDir}${family}.onnx`);
    const ref = decodeSafetensors(await Deno.readFile(`${exportsDir}${family}_hooks.safetensors`));
    const ids: number[][] = JSON.parse(ref.metadata.input_ids);
    const u = findUnembedding(bytes);
    if (typeof u === "string") throw new Error(u);
    const session = await ort.InferenceSession.create(bytes);
    const feed = new ort.Tensor("int64", BigInt64Array.from(ids.flat(), BigInt), [ids.length, ids[0].length]);
    const logits = (await session.run({ input_ids: feed })).logits.data as Float32Array;
    await session.release();
    const h = ref.tensors["ln_final.hook_normalized"].data as Float32Array, n = h.length / u.d;
    let worst = 0;
    for (let t = 0; t < n; t++) {
      for (let v = 0; v < u.vocab; v++) {
        let s = 0;
        for (let j = 0; j < u.d; j++) s += h[t * u.d + j] * u.W[j * u.vocab + v];
        worst = Math.max(worst, Math.abs(s - logits[t * u.vocab + v]));
      }
    }
    assertEquals(n * u.vocab, logits.length);
    assert(worst < 1e-4, `max |ln_final·W_U − logits| = ${worst}`);
  });
}
