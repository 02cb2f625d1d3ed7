import { assert, assertAlmostEquals, assertEquals } from "../assert.ts";
import { downstreamFidelity } from "../../stages/evaluate/downstream.ts";
import { makeTinyModelDir } from "../fixtures/tiny_model.ts";
import { DType, OnnxGraphBuilder } from "../../stages/model/onnx_builder.ts";
import { mulberry32 } from "./fixtures.ts";
import { modelIo } from "../../stages/model/model_io.ts";
import onnxProto from "onnx-proto";

async function setup() {
  const dir = await Deno.makeTempDir();
  const tiny = await makeTinyModelDir(dir);
  const hooks = JSON.parse(await Deno.readTextFile(`${dir}/hooks.json`)) as { name: string; tensor: string }[];
  const hook = hooks.find((h) => h.name === "blocks.0.hook_resid_post")!;
  const rnd = mulberry32(9);
  const nSeq = 5, S = 12, V = tiny.vocab.length;
  const ids = new Uint32Array(nSeq * S).map(() => 3 + Math.floor(rnd() * (V - 3)));
  const mask = new Uint8Array(nSeq * S).fill(1);
  mask.fill(0, (nSeq - 1) * S + 7); // the last sequence is padded after 7 tokens
  return { dir, tiny, hook, ids, mask, nSeq, S };
}

Deno.test("downstream: splicing the exact activation reproduces the clean run; zero-ablation recovers 0%", async () => {
  const { dir, hook, ids, mask, nSeq, S } = await setup();
  try {
    const modelBytes = await Deno.readFile(`${dir}/onnx/model.onnx`);
    const mean = new Float64Array(16).map((_, i) => 0.1 * (i - 8));
    const base = {
      modelBytes,
      hookTensor: hook.tensor,
      dIn: 16,
      ids,
      mask,
      nSeq,
      contextSize: S,
      mean,
      batchSequences: 2,
    };
    let seen = 0;
    const exact = await downstreamFidelity({ ...base, reconstruct: (x, n) => (seen += n, Promise.resolve(x.slice())) });
    assertEquals(exact.kind, "encoder");
    assertEquals(exact.n_sequences, nSeq);
    assertEquals(exact.n_tokens, nSeq * S - 5);
    assertEquals(seen, nSeq * S - 5); // only non-padding rows are reconstructed
    assertAlmostEquals(exact.spliced.sentence_embedding_mse, 0, 1e-10);
    assertAlmostEquals(exact.spliced.sentence_embedding_cosine, 1, 1e-6);
    assertAlmostEquals(exact.spliced.last_hidden_state_mse, 0, 1e-10);
    assertAlmostEquals(exact.fraction_recovered_zero, 1, 1e-9);
    assertAlmostEquals(exact.fraction_recovered_mean, 1, 1e-9);
    assert(exact.zero_ablation.sentence_embedding_mse > 1e-4, "zero-ablation changes the embedding");
    assert(exact.mean_ablation.last_hidden_state_cosine < 0.999);

    const zero = await downstreamFidelity({
      ...base,
      reconstruct: (_x, n) => Promise.resolve(new Float32Array(n * 16)),
    });
    assertEquals(zero.fraction_recovered_zero, 0);
    assertEquals(zero.spliced, zero.zero_ablation);
    assert(zero.fraction_recovered_mean < 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("downstream: a noisy reconstruction recovers between 0 and 1", async () => {
  const { dir, hook, ids, mask, nSeq, S } = await setup();
  try {
    const modelBytes = await Deno.readFile(`${dir}/onnx/model.onnx`);
    const rnd = mulberry32(2);
    const r = await downstreamFidelity({
      modelBytes,
      hookTensor: hook.tensor,
      dIn: 16,
      ids,
      mask,
      nSeq,
      contextSize: S,
      mean: new Float64Array(16),
      reconstruct: (x) => Promise.resolve(x.map((v) => v + 0.05 * (rnd() - 0.5))),
    });
    assert(r.fraction_recovered_zero > 0.5 && r.fraction_recovered_zero < 1, `recovered ${r.fraction_recovered_zero}`);
    assert(r.spliced.sentence_embedding_mse > 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/** log softmax(h·W) of the tiny LM, in float64. */
function lmLogProbs(h: number[], W: Float32Array, V: number): number[] {
  const z = Array.from({ length: V }, (_, j) => h.reduce((s, hv, i) => s + hv * W[i * V + j], 0));
  const m = Math.max(...z), lse = m + Math.log(z.reduce((s, v) => s + Math.exp(v - m), 0));
  return z.map((v) => v - lse);
}

/** A tiny "LM": logits = ReLU(E[ids]) · W, the ReLU output being the hook (its input E[ids]: `hook_embed`). */
function tinyLm(V: number, d: number, rnd: () => number) {
  const E = new Float32Array(V * d).map(() => rnd() * 2 - 1), W = new Float32Array(d * V).map(() => rnd() * 2 - 1);
  const g = new OnnxGraphBuilder("tiny_lm");
  g.input("input_ids", DType.INT64, ["batch", "sequence"]);
  g.input("attention_mask", DType.INT64, ["batch", "sequence"]);
  const h = g.op("Gather", [g.initializer("E", E, [V, d]), "input_ids"], {}, "hook_embed");
  const hook = g.op("Relu", [h], {}, "blocks.0.hook_resid_post");
  g.op("MatMul", [hook, g.initializer("W", W, [d, V])], {}, "logits");
  g.output("logits", DType.FLOAT, ["batch", "sequence", V]);
  return { bytes: g.toBytes(), E, W };
}

/** The tiny LM (V 7, d 5) with 3 sequences of 6 random ids, all real. */
function lmCase(seed: number) {
  const rnd = mulberry32(seed);
  const V = 7, d = 5, S = 6, nSeq = 3;
  const lm = tinyLm(V, d, rnd);
  const ids = new Uint32Array(nSeq * S).map(() => Math.floor(rnd() * V));
  return { V, d, S, nSeq, ...lm, ids, mask: new Uint8Array(nSeq * S).fill(1) };
}

Deno.test("downstream on a causal LM: CE loss and KL against a float64 reference", async () => {
  const { V, d, S, nSeq, bytes, E, W, ids, mask } = lmCase(4);
  mask.fill(0, 2 * S + 4);
  const base = {
    modelBytes: bytes,
    hookTensor: "blocks.0.hook_resid_post",
    dIn: d,
    ids,
    mask,
    nSeq,
    contextSize: S,
    mean: new Float64Array(d).fill(0.3),
  };
  const half = await downstreamFidelity({ ...base, reconstruct: (x) => Promise.resolve(x.map((v) => v / 2)) });
  assertEquals(half.kind, "causal_lm");
  // Reference: per position p with a real next token, logits(h) = h·W with h = ReLU(E[id]) (scaled for each variant).
  const logp = (h: number[]) => lmLogProbs(h, W, V);
  let ceClean = 0, ceHalf = 0, ceZero = 0, ceMean = 0, klHalf = 0, klZero = 0, n = 0;
  for (let s = 0; s < nSeq; s++) {
    for (let p = 0; p + 1 < S; p++) {
      const i = s * S + p;
      if (!mask[i] || !mask[i + 1]) continue;
      const h = Array.from(E.subarray(ids[i] * d, (ids[i] + 1) * d), (v) => Math.max(0, v));
      const c = logp(h),
        hh = logp(h.map((v) => Math.fround(v / 2))),
        z = logp(h.map(() => 0)),
        mm = logp(h.map(() => 0.3));
      const next = ids[i + 1];
      ceClean -= c[next];
      ceHalf -= hh[next];
      ceZero -= z[next];
      ceMean -= mm[next];
      klHalf += c.reduce((a, lc, j) => a + Math.exp(lc) * (lc - hh[j]), 0);
      klZero += c.reduce((a, lc, j) => a + Math.exp(lc) * (lc - z[j]), 0);
      n++;
    }
  }
  assertAlmostEquals(half.clean_ce_loss!, ceClean / n, 1e-5);
  assertAlmostEquals(half.spliced.ce_loss, ceHalf / n, 1e-5);
  assertAlmostEquals(half.zero_ablation.ce_loss, Math.log(V), 1e-6);
  assertAlmostEquals(half.mean_ablation.ce_loss, ceMean / n, 1e-5);
  assertAlmostEquals(half.spliced.kl_div, klHalf / n, 1e-5);
  assertAlmostEquals(half.zero_ablation.kl_div, klZero / n, 1e-5);
  assertAlmostEquals(half.fraction_recovered_zero, (ceZero - ceHalf) / (ceZero - ceClean), 1e-4);
  assertAlmostEquals(half.kl_recovered_zero!, (klZero - klHalf) / klZero, 1e-4);
  const exact = await downstreamFidelity({ ...base, reconstruct: (x) => Promise.resolve(x.slice()) });
  assertAlmostEquals(exact.spliced.kl_div, 0, 1e-9);
  assertAlmostEquals(exact.fraction_recovered_zero, 1, 1e-9);
});

Deno.test("downstream: an encoder output under another name (model.output_name) is compared the same way", async () => {
  const { dir, hook, ids, mask, nSeq, S } = await setup();
  try {
    const modelBytes = await Deno.readFile(`${dir}/onnx/model.onnx`);
    // the same graph, its only output renamed: sentence_embedding -> pooled, last_hidden_state dropped
    const model = onnxProto.onnx.ModelProto.decode(modelBytes);
    const g = model.graph!;
    g.output = g.output!.filter((o) => o.name === "sentence_embedding").map((o) => ({ ...o, name: "pooled" }));
    for (const n of g.node!) n.output = n.output!.map((o) => (o === "sentence_embedding" ? "pooled" : o));
    const renamed = onnxProto.onnx.ModelProto.encode(model).finish();
    const io = modelIo(renamed, { output_name: "pooled" });
    assertEquals([io.kind, io.output], ["encoder", "pooled"]);
    const base = { hookTensor: hook.tensor, dIn: 16, ids, mask, nSeq, contextSize: S, mean: new Float64Array(16) };
    const zero = (_x: Float32Array, n: number) => Promise.resolve(new Float32Array(n * 16));
    const r = await downstreamFidelity({ ...base, modelBytes: renamed, io, reconstruct: zero });
    const ref = await downstreamFidelity({ ...base, modelBytes, reconstruct: zero });
    assertAlmostEquals(r.zero_ablation.pooled_mse, ref.zero_ablation.sentence_embedding_mse, 1e-9);
    assertAlmostEquals(r.zero_ablation.pooled_cosine, ref.zero_ablation.sentence_embedding_cosine, 1e-9);
    assertEquals(r.fraction_recovered_zero, 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("downstream with a transcoder's input hook: the target is replaced by f(input hook rows), CE as float64", async () => {
  const { V, d, S, nSeq, bytes, E, W, ids, mask } = lmCase(6);
  const base = {
    modelBytes: bytes,
    hookTensor: "blocks.0.hook_resid_post", // replaced
    input: { tensor: "hook_embed", d }, // read: E[ids], before the ReLU
    dIn: d,
    ids,
    mask,
    nSeq,
    contextSize: S,
    mean: new Float64Array(d).fill(0.3),
  };
  // ReLU of the input hook is exactly the target: the clean model back
  const exact = await downstreamFidelity({
    ...base,
    reconstruct: (x) => Promise.resolve(x.map((v) => Math.max(0, v))),
  });
  assertAlmostEquals(exact.spliced.kl_div, 0, 1e-9);
  assertEquals(exact.input_hook_tensor, "hook_embed");
  // ReLU(−x) tells the input hook (E[ids]) from the target (ReLU(E[ids]), which would give 0 here)
  const neg = await downstreamFidelity({ ...base, reconstruct: (x) => Promise.resolve(x.map((v) => Math.max(0, -v))) });
  const logp = (h: number[]) => lmLogProbs(h, W, V);
  let ce = 0, n = 0;
  for (let i = 0; i < nSeq * S; i++) {
    if (i % S === S - 1) continue;
    ce -= logp(Array.from(E.subarray(ids[i] * d, (ids[i] + 1) * d), (v) => Math.max(0, -v)))[ids[i + 1]];
    n++;
  }
  assertAlmostEquals(neg.spliced.ce_loss, ce / n, 1e-5);
  assert(Math.abs(neg.spliced.ce_loss - neg.zero_ablation.ce_loss) > 1e-3, "not the zero ablation");
});
