/**
 * Downstream fidelity of a causal LM (the tiny GPT-2 fixture, fed `input_ids` only): the plain CE numbers
 * against a float64 CE computed here from onnxruntime's logits, and the splice mask (only the kept
 * positions are replaced; the others keep their clean activation).
 */
import { assert, assertAlmostEquals, assertEquals } from "../assert.ts";
import * as ort from "onnxruntime-node";
import { downstreamFidelity } from "../../stages/evaluate/downstream.ts";
import { modelIo } from "../../stages/model/model_io.ts";
import { listHooks } from "../../stages/model/onnx_graph.ts";
import { makeTinyGpt2Dir } from "../fixtures/tiny_gpt2.ts";
import { mulberry32 } from "./fixtures.ts";

const dir = await Deno.makeTempDir({ prefix: "causal_downstream_" });
const { vocab, eosId } = await makeTinyGpt2Dir(dir);
const modelBytes = await Deno.readFile(`${dir}/onnx/model.onnx`);
const io = modelIo(modelBytes);
const hook = listHooks(modelBytes).find((h) => h.name === "blocks.0.hook_resid_post")!;
const nSeq = 3, S = 10, V = vocab.length;
const rnd = mulberry32(4);
const ids = new Uint32Array(nSeq * S).map(() => Math.floor(rnd() * (V - 1)));
for (let s = 0; s < nSeq; s++) ids[s * S] = eosId;
const mask = new Uint8Array(nSeq * S).fill(1);
mask.fill(0, nSeq * S - 3); // padding tail of the last sequence
const base = { modelBytes, hookTensor: hook.tensor, dIn: 16, ids, mask, nSeq, contextSize: S, io, batchSequences: 2 };
const mean = new Float64Array(16).fill(0.25);

/** mean over positions p with a real next token of −log softmax(logits_p)[ids_{p+1}], in float64. */
async function referenceCe(): Promise<number> {
  const session = await ort.InferenceSession.create(modelBytes);
  const t = new ort.Tensor("int64", BigInt64Array.from(ids, (v) => BigInt(v)), [nSeq, S]);
  const logits = (await session.run({ input_ids: t })).logits.data as Float32Array;
  await session.release();
  let sum = 0, n = 0;
  for (let i = 0; i < nSeq * S; i++) {
    if (i % S === S - 1 || !mask[i] || !mask[i + 1]) continue;
    const row = Array.from(logits.subarray(i * V, (i + 1) * V));
    const m = Math.max(...row);
    const lse = m + Math.log(row.reduce((a, x) => a + Math.exp(x - m), 0));
    sum += lse - row[ids[i + 1]];
    n++;
  }
  return sum / n;
}

Deno.test("causal LM downstream: CE without / with SAE / with ablation; the exact activation recovers 100%", async () => {
  assertEquals(io.attention_mask, null);
  const r = await downstreamFidelity({ ...base, mean, reconstruct: (x) => Promise.resolve(x.slice()) });
  assertEquals(r.kind, "causal_lm");
  assertAlmostEquals(r.ce_loss_without_sae!, await referenceCe(), 1e-5);
  assertAlmostEquals(r.ce_loss_with_sae!, r.ce_loss_without_sae!, 1e-6);
  assertEquals(r.ce_loss_with_ablation, r.zero_ablation.ce_loss);
  assert(Math.abs(r.ce_loss_with_ablation! - r.ce_loss_without_sae!) > 1e-3, "zero-ablation changes the loss");
  assertAlmostEquals(r.fraction_recovered_zero, 1, 1e-6);
});

Deno.test("causal LM downstream: only splice positions are replaced", async () => {
  const none = new Uint8Array(nSeq * S);
  const r = await downstreamFidelity({ ...base, mean, splice: none, reconstruct: (x) => Promise.resolve(x.fill(0)) });
  // nothing replaced: every variant is the clean model
  assertAlmostEquals(r.ce_loss_with_ablation!, r.ce_loss_without_sae!, 1e-6);
  assertAlmostEquals(r.zero_ablation.kl_div, 0, 1e-9);
  // replacing the last position of each sequence only: earlier positions are causal and unchanged
  const last = new Uint8Array(nSeq * S);
  for (let s = 0; s < nSeq; s++) last[s * S + S - 1] = 1;
  const z = await downstreamFidelity({ ...base, mean, splice: last, reconstruct: (x) => Promise.resolve(x.fill(0)) });
  assertEquals(z.n_tokens, nSeq);
  assertAlmostEquals(z.ce_loss_with_ablation!, z.ce_loss_without_sae!, 1e-6); // the last logits have no target
});

Deno.test("causal LM downstream: a position_ids input (optimum's GPT-2 export) is fed 0, 1, … per sequence", async () => {
  const pdir = `${dir}_pos`;
  await makeTinyGpt2Dir(pdir, { positionIds: true });
  const bytes = await Deno.readFile(`${pdir}/onnx/model.onnx`);
  const pio = modelIo(bytes);
  assertEquals(pio.position_ids, "position_ids");
  const args = { ...base, mean, reconstruct: (x: Float32Array) => Promise.resolve(x.slice()) };
  const withPos = await downstreamFidelity({ ...args, modelBytes: bytes, io: pio });
  const plain = await downstreamFidelity(args);
  assertAlmostEquals(withPos.ce_loss_without_sae!, plain.ce_loss_without_sae!, 1e-6);
  assertAlmostEquals(withPos.ce_loss_with_ablation!, plain.ce_loss_with_ablation!, 1e-6);
});
