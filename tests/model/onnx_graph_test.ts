import { assert, assertEquals, assertThrows } from "../assert.ts";
import * as ort from "onnxruntime-node";
import onnxProto from "onnx-proto";
import { makeTinyModelDir, tinyModelForward } from "../fixtures/tiny_model.ts";
import { exposeHooks, listHooks, loadModelProto, resolveHook, spliceHook } from "../../stages/model/onnx_graph.ts";
import { DType, OnnxGraphBuilder } from "../../stages/model/onnx_builder.ts";

const IDS = [[5, 17, 40, 3, 9, 0], [12, 8, 66, 101, 7, 150]];
const MASK = [[1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1]];

function feeds(ids = IDS, mask = MASK): Record<string, ort.Tensor> {
  const dims = [ids.length, ids[0].length];
  return {
    input_ids: new ort.Tensor("int64", BigInt64Array.from(ids.flat().map(BigInt)), dims),
    attention_mask: new ort.Tensor("int64", BigInt64Array.from(mask.flat().map(BigInt)), dims),
  };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assertEquals(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const tmp = await Deno.makeTempDir({ prefix: "onnx_graph_test_" });
const tiny = await makeTinyModelDir(tmp);
const bytes = await Deno.readFile(`${tmp}/onnx/model.onnx`);
const hooks = listHooks(bytes);

Deno.test("listHooks: TransformerLens names with shapes and d", () => {
  const byName = new Map(hooks.map((h) => [h.name, h]));
  for (const L of [0, 1]) {
    for (const n of ["hook_resid_pre", "hook_resid_mid", "hook_resid_post", "hook_attn_out", "hook_mlp_out"]) {
      const h = byName.get(`blocks.${L}.${n}`)!;
      assertEquals([h.shape, h.d], [["batch", "seq", 16], 16], n);
    }
    assertEquals(byName.get(`blocks.${L}.mlp.hook_post`)!.shape, ["batch", "seq", 32]);
    assertEquals(byName.get(`blocks.${L}.attn.hook_pattern`)!.shape, ["batch", 2, "seq", "seq"]);
    assertEquals(byName.get(`blocks.${L}.attn.hook_pattern`)!.d, -1);
  }
  assertEquals(byName.get("blocks.0.hook_resid_post")!.op, "Add");
  // Inputs, initializers and weight-only tensors are not hooks.
  assert(!byName.has("input_ids") && !byName.has("embed.W_E"));
});

Deno.test("exposeHooks: onnxruntime returns every hook, equal to a float64 recomputation", async () => {
  const tl = hooks.filter((h) => h.name === h.tensor && /^(blocks|hook_)/.test(h.name)).map((h) => h.tensor);
  const session = await ort.InferenceSession.create(exposeHooks(bytes, tl));
  const got = await session.run(feeds());
  const want = tinyModelForward(tiny.weights, IDS, MASK);
  let checked = 0;
  for (const name of [...Object.keys(want)]) {
    if (name.endsWith("hook_attn_scores")) continue; // -1e9 at padding: compared through the pattern
    const diff = maxAbsDiff(got[name].data as Float32Array, want[name]);
    assert(diff < 1e-4, `${name}: max abs diff ${diff}`);
    checked++;
  }
  assert(checked >= 30, `only ${checked} hooks compared`);
  // The values are not trivially small (the comparison can fail).
  assert(Math.max(...(got["blocks.1.hook_resid_post"].data as Float32Array).map(Math.abs)) > 0.5);
});

Deno.test("spliceHook: splicing the exact activation reproduces the outputs; a change propagates", async () => {
  const hook = resolveHook(hooks, "blocks.0.hook_resid_post");
  const full = await ort.InferenceSession.create(exposeHooks(bytes, [hook.tensor]));
  const ref = await full.run(feeds());
  const spliced = spliceHook(bytes, hook.tensor);
  const g = loadModelProto(spliced).graph!;
  assert(g.input!.some((i) => i.name === "hook_replacement"));
  assert(!g.node!.some((n) => n.output!.includes("blocks.0.hook_attn_out")), "dead block-0 subgraph was pruned");
  const session = await ort.InferenceSession.create(spliced);
  const act = ref[hook.tensor];
  const same = await session.run({ ...feeds(), hook_replacement: act });
  assert(maxAbsDiff(same.last_hidden_state.data as Float32Array, ref.last_hidden_state.data as Float32Array) < 1e-6);
  assert(maxAbsDiff(same.sentence_embedding.data as Float32Array, ref.sentence_embedding.data as Float32Array) < 1e-6);

  const scaled = new ort.Tensor("float32", (act.data as Float32Array).map((x) => x * 0.5), act.dims);
  const changed = await session.run({ ...feeds(), hook_replacement: scaled });
  assert(maxAbsDiff(changed.last_hidden_state.data as Float32Array, ref.last_hidden_state.data as Float32Array) > 1e-2);
});

Deno.test("spliceHook on a graph output: the output becomes the replacement", async () => {
  const session = await ort.InferenceSession.create(spliceHook(bytes, "last_hidden_state", "x"));
  const x = Float32Array.from({ length: 2 * 6 * 16 }, (_, i) => Math.sin(i * 0.7) * 3);
  const out = await session.run({ ...feeds(), x: new ort.Tensor("float32", x, [2, 6, 16]) });
  assertEquals(Array.from(out.last_hidden_state.data as Float32Array), Array.from(x));
  // Masked mean over the 5 real tokens of row 0.
  let want = 0;
  for (let s = 0; s < 5; s++) want += x[s * 16 + 3];
  assert(Math.abs((out.sentence_embedding.data as Float32Array)[3] - want / 5) < 1e-5);
});

Deno.test("resolveHook: by name or tensor; unknown -> close matches", () => {
  assertEquals(resolveHook(hooks, "blocks.1.mlp.hook_post").d, 32);
  assertEquals(resolveHook(hooks, "Cast_1").tensor, "Cast_1");
  const err = assertThrows(() => resolveHook(hooks, "blocks.0.hook_resid_pots"), Error);
  assert(
    err.message.startsWith('unknown hook "blocks.0.hook_resid_pots" — close matches: blocks.0.hook_resid_post'),
    err.message,
  );
  assert(err.message.endsWith("(run `deno task pipeline hooks` for the list)"));
  const e2 = assertThrows(() => spliceHook(bytes, "no_such_tensor"), Error);
  assertEquals(e2.message, 'tensor "no_such_tensor" is not produced by any node of the graph');
  assert(assertThrows(() => loadModelProto(new Uint8Array([1, 2, 3, 4]))).message.startsWith("not an ONNX model"));
});

/** A GPT-2-shaped graph with torch.onnx node names and no value_info: the HF mapping rules + shape inference. */
function gpt2LikeOnnx(): Uint8Array {
  const b = new OnnxGraphBuilder("gpt2_like");
  const d = 8, m = 16;
  let seed = 3;
  const rand = (n: number) =>
    Float32Array.from({ length: n }, () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5));
  const n = (op: string, ins: string[], name: string, attrs = {}) =>
    b.node(op, ins, [`${name}_output_0`], attrs, name)[0];
  const ids = b.input("input_ids", DType.INT64, ["batch_size", "sequence_length"]);
  b.input("attention_mask", DType.INT64, ["batch_size", "sequence_length"]);
  const wte = n(
    "Gather",
    [b.initializer("transformer.wte.weight", rand(50 * d), [50, d]), ids],
    "/transformer/wte/Gather",
  );
  const pos = n(
    "Gather",
    [b.initializer("transformer.wpe.weight", rand(32 * d), [32, d]), ids],
    "/transformer/wpe/Gather",
  );
  let resid = n("Add", [wte, pos], "/transformer/Add");
  for (const L of [0, 1]) {
    const p = `/transformer/h.${L}`;
    const ln = (x: string, mod: string) =>
      n(
        "LayerNormalization",
        [x, b.initializer(`${mod}.g${L}`, rand(d), [d]), b.initializer(`${mod}.b${L}`, rand(d), [d])],
        `${p}/${mod}/LayerNormalization`,
        { axis: -1, epsilon: { f: 1e-5 } },
      );
    const h1 = ln(resid, "ln_1");
    const scores = n(
      "MatMul",
      [h1, n("Transpose", [h1], `${p}/attn/Transpose`, { perm: [0, 2, 1] })],
      `${p}/attn/MatMul`,
    );
    const pattern = n("Softmax", [scores], `${p}/attn/Softmax`, { axis: -1 });
    const z = n("MatMul", [pattern, h1], `${p}/attn/MatMul_1`);
    const attn = n("Add", [
      n("MatMul", [z, b.initializer(`Wo${L}`, rand(d * d), [d, d])], `${p}/attn/c_proj/MatMul`),
      b.initializer(`bo${L}`, rand(d), [d]),
    ], `${p}/attn/c_proj/Add`);
    const mid = n("Add", [resid, attn], `${p}/Add`);
    const h2 = ln(mid, "ln_2");
    const fc = n("Add", [
      n("MatMul", [h2, b.initializer(`Wi${L}`, rand(d * m), [d, m])], `${p}/mlp/c_fc/MatMul`),
      b.initializer(`bi${L}`, rand(m), [m]),
    ], `${p}/mlp/c_fc/Add`);
    const act = n("Tanh", [fc], `${p}/mlp/act/Tanh`);
    // Conv1D export: flatten to [b*s, m], Gemm, reshape back via a Shape/Concat chain.
    const flat = n("Reshape", [act, b.ints(`flat${L}`, [-1, m])], `${p}/mlp/c_proj/Reshape`);
    const gemm = n(
      "Gemm",
      [flat, b.initializer(`Wp${L}`, rand(m * d), [m, d]), b.initializer(`bp${L}`, rand(d), [d])],
      `${p}/mlp/c_proj/Gemm`,
    );
    const shp = n("Shape", [act], `${p}/mlp/c_proj/Shape`);
    const lead = n("Slice", [shp, b.ints(`s0${L}`, [0]), b.ints(`s1${L}`, [2])], `${p}/mlp/c_proj/Slice`);
    const target = n("Concat", [lead, b.ints(`dd${L}`, [d])], `${p}/mlp/c_proj/Concat`, { axis: 0 });
    const mlp = n("Reshape", [gemm, target], `${p}/mlp/c_proj/Reshape_1`);
    resid = n("Add", [mid, mlp], `${p}/Add_1`);
  }
  const out = n(
    "LayerNormalization",
    [resid, b.initializer("lnf.g", rand(d), [d]), b.initializer("lnf.b", rand(d), [d])],
    "/transformer/ln_f/LayerNormalization",
    { axis: -1, epsilon: { f: 1e-5 } },
  );
  b.node("Identity", [out], ["last_hidden_state"], {}, "/Identity");
  b.output("last_hidden_state", DType.FLOAT, ["batch_size", "sequence_length", d]);
  const model = b.toModel();
  model.graph!.valueInfo = []; // exports often carry none: shapes must come from inference
  return onnxProto.onnx.ModelProto.encode(model).finish();
}

Deno.test("listHooks: HF export naming -> TransformerLens names, shapes inferred", async () => {
  const gpt = gpt2LikeOnnx();
  const hs = new Map(listHooks(gpt).map((h) => [h.name, h]));
  const want: Record<string, string> = {
    "hook_embed": "/transformer/wte/Gather_output_0",
    "hook_pos_embed": "/transformer/wpe/Gather_output_0",
    "blocks.0.hook_resid_pre": "/transformer/Add_output_0",
    "blocks.0.hook_resid_mid": "/transformer/h.0/Add_output_0",
    "blocks.0.hook_resid_post": "/transformer/h.0/Add_1_output_0",
    "blocks.1.hook_resid_pre": "/transformer/h.0/Add_1_output_0",
    "blocks.0.hook_attn_out": "/transformer/h.0/attn/c_proj/Add_output_0",
    "blocks.0.attn.hook_z": "/transformer/h.0/attn/MatMul_1_output_0",
    "blocks.0.attn.hook_pattern": "/transformer/h.0/attn/Softmax_output_0",
    "blocks.1.hook_mlp_out": "/transformer/h.1/mlp/c_proj/Reshape_1_output_0",
    "blocks.1.mlp.hook_post": "/transformer/h.1/mlp/act/Tanh_output_0",
    "ln_final.hook_normalized": "/transformer/ln_f/LayerNormalization_output_0",
  };
  for (const [name, tensor] of Object.entries(want)) assertEquals(hs.get(name)?.tensor, tensor, name);
  assertEquals(hs.get("blocks.1.hook_mlp_out")!.shape, ["batch_size", "sequence_length", 8]);
  assertEquals(hs.get("blocks.1.mlp.hook_post")!.d, 16);
  // Exposing an HF-named tensor works in onnxruntime too.
  const session = await ort.InferenceSession.create(exposeHooks(gpt, [hs.get("blocks.1.hook_mlp_out")!.tensor]));
  const ids = new ort.Tensor("int64", BigInt64Array.from([1n, 2n, 3n, 4n, 5n, 6n]), [2, 3]);
  const r = await session.run({ input_ids: ids, attention_mask: ids });
  assertEquals(r["/transformer/h.1/mlp/c_proj/Reshape_1_output_0"].dims, [2, 3, 8]);
});

Deno.test("tiny fixture is deterministic", async () => {
  const dir2 = await Deno.makeTempDir({ prefix: "onnx_graph_test_" });
  await makeTinyModelDir(dir2);
  for (const f of ["onnx/model.onnx", "tokenizer.json", "hooks.json", "config.json"]) {
    assertEquals(await Deno.readFile(`${dir2}/${f}`), await Deno.readFile(`${tmp}/${f}`), f);
  }
  await Deno.remove(dir2, { recursive: true });
});

globalThis.addEventListener("unload", () => Deno.removeSync(tmp, { recursive: true }));
