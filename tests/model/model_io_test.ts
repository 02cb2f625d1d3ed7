/**
 * The model stage's checks on a causal LM export (the tiny GPT-2 fixture and its failure variants):
 * inputs, outputs and dynamic axes are decided or rejected in one line before anything else runs;
 * only the files the pipeline reads are copied, and exactly those are in the key.
 */
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { GPT2_STATIC, makeTinyGpt2Dir } from "../fixtures/tiny_gpt2.ts";
import { type ModelParams, modelStage } from "../../stages/model/mod.ts";
import { modelIo } from "../../stages/model/model_io.ts";
import { localModelFiles } from "../../stages/model/local_files.ts";
import type { StageContext } from "../../pipeline/stage.ts";

const root = await Deno.makeTempDir({ prefix: "model_io_test_" });

function ctx(params: Partial<ModelParams>, outDir: string): StageContext<ModelParams> {
  return {
    params: { source: "", onnx_file: "model.onnx", input_name: null, output_name: null, ...params },
    outDir,
    inputs: {},
    scratchDir: outDir + "_scratch",
    config: {},
    signal: new AbortController().signal,
    progress: () => {},
    log: () => {},
  };
}

async function runModel(name: string, opts: Parameters<typeof makeTinyGpt2Dir>[1], params = {}) {
  const src = `${root}/${name}`;
  await makeTinyGpt2Dir(src, opts);
  const out = `${root}/${name}_out`;
  await modelStage.run(ctx({ source: src, ...params }, out));
  return { src, out, json: JSON.parse(await Deno.readTextFile(`${out}/model.json`)) };
}

Deno.test("model io: a plain torch.onnx GPT-2 export is a causal LM fed input_ids only", async () => {
  const { json } = await runModel("plain", {});
  assertEquals(json.io, {
    kind: "causal_lm",
    input_ids: "input_ids",
    attention_mask: null,
    token_type_ids: null,
    position_ids: null,
    output: "logits",
  });
  assertEquals([json.d_model, json.n_layers, json.max_positions], [16, 2, 64]);
});

Deno.test("model io: nanoGPT's idx is found; another output name is found by vocab size or named", async () => {
  const { json } = await runModel("idx", { inputName: "idx", outputName: "out" });
  assertEquals([json.io.kind, json.io.input_ids, json.io.output], ["causal_lm", "idx", "out"]);
  const named = await runModel("named", { inputName: "tokens", outputName: "y" }, {
    input_name: "tokens",
    output_name: "y",
  });
  assertEquals([named.json.io.input_ids, named.json.io.output], ["tokens", "y"]);
  // without config.json's vocab size nothing says "out" is logits: one line naming the key to set
  await makeTinyGpt2Dir(`${root}/bare`, { outputName: "out" });
  const bytes = await Deno.readFile(`${root}/bare/onnx/model.onnx`);
  const e = (() => {
    try {
      modelIo(bytes);
    } catch (err) {
      return err as Error;
    }
  })();
  assert(e && /none is logits.*set model\.output_name/.test(e.message) && !e.message.includes("\n"), e?.message);
});

Deno.test("model io: one-line errors for last-position logits, static shapes, unknown names", async () => {
  const cases: [string, Parameters<typeof makeTinyGpt2Dir>[1], Record<string, string>, RegExp][] = [
    ["last", { lastPositionLogits: true }, {}, /"logits" has shape \[batch, 1, \d+\]: .*last position only/],
    ["static", { staticShapes: true }, {}, new RegExp(`fixed shape \\[${GPT2_STATIC.join(", ")}\\].*dynamic_axes`)],
    ["badin", {}, { input_name: "idx" }, /model.input_name "idx" is not an input of the model \(inputs: input_ids\)/],
    ["badout", {}, { output_name: "y" }, /model.output_name "y" is not an output of the model \(outputs: logits\)/],
    [
      "past",
      { extraInput: "past_key_values.0.key" },
      {},
      /"past_key_values.0.key" is not one .* text-generation-with-past/,
    ],
  ];
  for (const [name, opts, params, re] of cases) {
    const src = `${root}/${name}`;
    await makeTinyGpt2Dir(src, opts);
    const out = `${root}/${name}_out`;
    const e = await assertRejects(() => modelStage.run(ctx({ source: src, ...params }, out)));
    assert(re.test(e.message) && !e.message.includes("\n"), `${name}: ${e.message}`);
    // checked before anything is written
    assert(!(await Deno.stat(out).then(() => true, () => false)), `${name}: wrote ${out}`);
  }
});

Deno.test("model stage copies only what the pipeline reads, and its key covers exactly those", async () => {
  const src = `${root}/extra`;
  await makeTinyGpt2Dir(src);
  await Deno.writeFile(`${src}/pytorch_model.bin`, new Uint8Array(1000));
  await Deno.writeFile(`${src}/model.safetensors`, new Uint8Array(1000));
  await Deno.writeTextFile(`${src}/special_tokens_map.json`, "{}");
  await Deno.writeFile(`${src}/onnx/other.onnx`, new Uint8Array(10));
  const out = `${src}_out`;
  await modelStage.run(ctx({ source: src }, out));
  const top: string[] = [];
  for await (const e of Deno.readDir(out)) top.push(e.name);
  assertEquals(top.sort(), [
    "config.json",
    "hooks.json",
    "model.json",
    "onnx",
    "tokenizer.json",
    "tokenizer_config.json",
  ]);
  const onnx: string[] = [];
  for await (const e of Deno.readDir(`${out}/onnx`)) onnx.push(e.name);
  assertEquals(onnx, ["model.onnx"]);
  assertEquals(modelStage.dataFiles!({ source: src, onnx_file: "model.onnx", input_name: null, output_name: null }), [
    `${src}/config.json`,
    `${src}/tokenizer.json`,
    `${src}/tokenizer_config.json`,
    `${src}/onnx/model.onnx`,
  ]);
});

Deno.test("model stage: an ONNX file's external data is copied under its own name and is in the key", async () => {
  const src = `${root}/external`;
  await makeTinyGpt2Dir(src, { externalData: true });
  const files = localModelFiles(src, "model.onnx");
  assertEquals(files.at(-1), { from: `${src}/onnx/model.onnx_data`, to: "onnx/model.onnx_data" });
  assert(
    modelStage.dataFiles!({ source: src, onnx_file: "model.onnx", input_name: null, output_name: null }).includes(
      `${src}/onnx/model.onnx_data`,
    ),
  );
  const out = `${src}_out`;
  await modelStage.run(ctx({ source: src }, out));
  assertEquals(await Deno.readFile(`${out}/onnx/model.onnx_data`), await Deno.readFile(`${src}/onnx/model.onnx_data`));
});

Deno.test("the shipped data/fixtures/tiny_gpt2 is exactly what the fixture builder writes", async () => {
  const shipped = new URL("../../data/fixtures/tiny_gpt2/", import.meta.url).pathname;
  const fresh = `${root}/shipped_check`;
  await makeTinyGpt2Dir(fresh);
  for (const f of ["config.json", "tokenizer.json", "tokenizer_config.json", "onnx/model.onnx"]) {
    assertEquals(await Deno.readFile(`${shipped}${f}`), await Deno.readFile(`${fresh}/${f}`), f);
  }
});
