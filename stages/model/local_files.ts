/**
 * The files of a local HF-style model directory that the pipeline reads, and so the only ones the model
 * stage copies and puts in its cache key: config.json, tokenizer.json, tokenizer_config.json, our own
 * model.json when the directory has one, the chosen `onnx/<file>` (stored as onnx/model.onnx) and every
 * external-data file its initializers name (stored under the same name next to it). Weights in other
 * formats (safetensors, a PyTorch state dict) are neither copied nor hashed.
 */
import { existsSync, statSync } from "node:fs";
import { loadModelProto } from "./onnx_graph.ts";

export interface ModelFile {
  from: string;
  /** Path inside the model stage's output. */
  to: string;
}

const TOP_LEVEL = ["config.json", "tokenizer.json", "tokenizer_config.json", "model.json"];

const locationsCache = new Map<string, string[]>();

/** The `location` of every external-data initializer of the ONNX file at `path` ([] when unreadable). */
export function externalDataLocations(path: string): string[] {
  let st;
  try {
    st = statSync(path);
  } catch {
    return [];
  }
  const key = `${path}\0${st.size}\0${st.mtimeMs}`;
  const hit = locationsCache.get(key);
  if (hit) return hit;
  let out: string[] = [];
  try {
    const graph = loadModelProto(Deno.readFileSync(path)).graph!;
    const locs = new Set<string>();
    for (const t of graph.initializer ?? []) {
      const loc = (t.externalData ?? []).find((e) => e.key === "location")?.value;
      if (loc) locs.add(loc);
    }
    out = [...locs].sort();
  } catch {
    out = []; // not an ONNX model: the model stage reports it when it runs
  }
  locationsCache.set(key, out);
  return out;
}

/** What the model stage copies from `src` (top-level files only where they exist). */
export function localModelFiles(src: string, onnxFile: string): ModelFile[] {
  const files: ModelFile[] = TOP_LEVEL.filter((f) => f !== "model.json" || existsSync(`${src}/${f}`))
    .map((f) => ({ from: `${src}/${f}`, to: f }));
  const onnxPath = `${src}/onnx/${onnxFile}`;
  files.push({ from: onnxPath, to: "onnx/model.onnx" });
  for (const loc of externalDataLocations(onnxPath)) {
    if (loc.includes("..") || loc.startsWith("/")) {
      throw new Error(`${onnxPath}: external data "${loc}" is outside onnx/`);
    }
    files.push({ from: `${src}/onnx/${loc}`, to: `onnx/${loc}` });
  }
  return files;
}
