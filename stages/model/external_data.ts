/**
 * External data for sessions created from model *bytes*: onnxruntime will not resolve an initializer's
 * external file relative to nothing ("escapes working directory"), but takes the files' contents as the
 * `externalData` session option. The graph surgery (exposeHooks, spliceHook, the extract cut) keeps the
 * initializers' external references, so the same list serves every derived graph.
 */
import { join } from "node:path";
import { externalDataLocations } from "./local_files.ts";

export interface ExternalDataFile {
  path: string;
  data: Uint8Array;
}

/** The external-data files of `<modelDir>/onnx/model.onnx`, read into memory ([] when it has none). */
export async function readExternalData(modelDir: string): Promise<ExternalDataFile[]> {
  const onnxDir = join(modelDir, "onnx");
  const out: ExternalDataFile[] = [];
  for (const path of externalDataLocations(join(onnxDir, "model.onnx"))) {
    try {
      out.push({ path, data: await Deno.readFile(join(onnxDir, path)) });
    } catch {
      throw new Error(`model directory ${modelDir}: onnx/${path} (external data of onnx/model.onnx) is missing`);
    }
  }
  return out;
}
