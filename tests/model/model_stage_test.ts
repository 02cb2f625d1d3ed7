/** The model stage: local directories copied unchanged (what the pipeline reads), clear errors, deterministic use-lite output, transformers.js loads it. */
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { makeTinyModelDir } from "../fixtures/tiny_model.ts";
import { type ModelParams, modelStage, writeUseLiteDir } from "../../stages/model/mod.ts";
import { listHooksForModelDir } from "../../stages/model/hooks_cli.ts";
import type { StageContext } from "../../pipeline/stage.ts";

/** The stage context for `params` (the io-name keys default to auto-detection). */
function ctx(
  params: Omit<ModelParams, "input_name" | "output_name"> & Partial<ModelParams>,
  outDir: string,
): StageContext<ModelParams> {
  return {
    params: { input_name: null, output_name: null, ...params },
    outDir,
    inputs: {},
    scratchDir: outDir + "_scratch",
    config: {},
    signal: new AbortController().signal,
    progress: () => {},
    log: () => {},
  };
}

async function filesOf(dir: string, sub = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(`${dir}/${sub}`)) {
    const rel = sub ? `${sub}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...await filesOf(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

/** transformers.js, imported untyped: its type declarations clash with node:assert's in one program (TS2769). */
// deno-lint-ignore no-explicit-any
async function transformersJs(): Promise<any> {
  const specifier = "@huggingface/transformers";
  return await import(specifier);
}

const root = await Deno.makeTempDir({ prefix: "model_stage_test_" });

Deno.test("local model dir: copied unchanged, hooks.json and model.json present", async () => {
  const src = `${root}/tiny`, out = `${root}/out_tiny`;
  await makeTinyModelDir(src);
  await Deno.remove(`${src}/hooks.json`);
  await modelStage.run(ctx({ source: src, onnx_file: "model.onnx" }, out));
  const files = await filesOf(out);
  assertEquals(files, [
    "config.json",
    "hooks.json",
    "model.json",
    "onnx/model.onnx",
    "tokenizer.json",
    "tokenizer_config.json",
  ]);
  for (const f of files.filter((f) => f !== "hooks.json" && f !== "model.json")) {
    assertEquals(await Deno.readFile(`${out}/${f}`), await Deno.readFile(`${src}/${f}`), f);
  }
  // model.json: the directory's own, plus the io the model stage decided
  const own = JSON.parse(await Deno.readTextFile(`${src}/model.json`));
  assertEquals(JSON.parse(await Deno.readTextFile(`${out}/model.json`)), {
    ...own,
    io: {
      kind: "encoder",
      input_ids: "input_ids",
      attention_mask: "attention_mask",
      token_type_ids: null,
      position_ids: null,
      output: "sentence_embedding",
    },
  });
  const rows = await listHooksForModelDir(out);
  assertEquals(rows.find((r) => r.name === "blocks.0.hook_resid_post"), {
    name: "blocks.0.hook_resid_post",
    shape: "[batch, seq, 16]",
    op: "Add",
    names: "mapped",
  });
  assertEquals(rows.find((r) => r.name === "attn_mask_bias")?.names, "raw");
});

Deno.test("local model dir: missing tokenizer / onnx / dir -> one-line error naming the file and the fix", async () => {
  const src = `${root}/broken`;
  await makeTinyModelDir(src);
  await Deno.remove(`${src}/tokenizer.json`);
  const e = await assertRejects(() => modelStage.run(ctx({ source: src, onnx_file: "model.onnx" }, `${root}/o1`)));
  assert(e.message.startsWith(`model source "${src}": missing tokenizer.json — export the fast tokenizer`), e.message);
  assert(!e.message.includes("\n"));
  const e2 = await assertRejects(() =>
    modelStage.run(ctx({ source: `${root}/tiny`, onnx_file: "other.onnx" }, `${root}/o2`))
  );
  assert(e2.message.includes("missing onnx/other.onnx"), e2.message);
  const e3 = await assertRejects(() =>
    modelStage.run(ctx({ source: `${root}/nope`, onnx_file: "model.onnx" }, `${root}/o3`))
  );
  assert(e3.message.includes("no such directory"), e3.message);
  await assertRejects(() => listHooksForModelDir(`${root}/nope`));
});

Deno.test("use-lite: deterministic bytes; transformers.js loads the directory offline and runs it", async () => {
  const a = `${root}/use_a`, b = `${root}/use_b`;
  await writeUseLiteDir(a);
  await modelStage.run(ctx({ source: "use-lite", onnx_file: "model.onnx" }, b));
  const files = await filesOf(a);
  assertEquals(files, await filesOf(b));
  for (const f of files) assertEquals(await Deno.readFile(`${a}/${f}`), await Deno.readFile(`${b}/${f}`), f);
  const config = JSON.parse(await Deno.readTextFile(`${a}/config.json`));
  assertEquals([config.max_position_embeddings, config.hidden_size, config.num_hidden_layers], [128, 512, 2]);
  assertEquals(JSON.parse(await Deno.readTextFile(`${a}/model.json`)).d_model, 512);
  const hooks = JSON.parse(await Deno.readTextFile(`${a}/hooks.json`));
  assertEquals(hooks.find((h: { name: string }) => h.name === "blocks.0.hook_resid_post").d, 512);

  const { AutoModel, AutoTokenizer, env } = await transformersJs();
  env.allowRemoteModels = false;
  env.localModelPath = root;
  const tok = await AutoTokenizer.from_pretrained("use_a");
  const model = await AutoModel.from_pretrained("use_a", { dtype: "fp32" });
  const out = await model(tok(["The jury said it.", "Hello"], { padding: true }));
  assertEquals(out.sentence_embedding.dims, [2, 512]);
  const e = out.sentence_embedding.data as Float32Array;
  const norm = Math.sqrt(e.slice(0, 512).reduce((s, x) => s + x * x, 0));
  assert(Math.abs(norm - 1) < 1e-4, `norm ${norm}`);
  assertEquals(out.last_hidden_state.dims.slice(0, 1), [2]);
  await model.dispose();
});

Deno.test("tiny fixture: transformers.js tokenizes arbitrary text and runs the model offline", async () => {
  const tiny = await makeTinyModelDir(`${root}/tiny_tf`);
  const { AutoModel, AutoTokenizer, env } = await transformersJs();
  env.allowRemoteModels = false;
  env.localModelPath = root;
  const tok = await AutoTokenizer.from_pretrained("tiny_tf");
  const ids: number[] = tok.encode("The man said: Zebras é 42!", { add_special_tokens: false });
  const pieces = ids.map((i) => tiny.vocab[i]);
  assertEquals(pieces.slice(0, 3), ["▁the", "▁man", "▁said"]);
  assert(pieces.includes("<unk>") && pieces.includes("4") && pieces.includes("▁z"), pieces.join(" "));
  const model = await AutoModel.from_pretrained("tiny_tf", { dtype: "fp32" });
  const out = await model(tok(["the man", "a long day of work"], { padding: true }));
  assertEquals(out.sentence_embedding.dims, [2, 16]);
  assertEquals(out.last_hidden_state.dims, [2, 5, 16]);
  await model.dispose();
});

globalThis.addEventListener("unload", () => Deno.removeSync(root, { recursive: true }));
