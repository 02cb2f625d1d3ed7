/**
 * Rows of `deno task pipeline hooks`: the hook points of a model directory (the model stage's output
 * or any HF-style dir with onnx/model.onnx). Reads hooks.json when present, else lists from the graph.
 * `names` says whether a row's name is a TransformerLens name (`mapped`: from the node-scope rules or
 * already in the graph) or the raw ONNX tensor name (`raw`: no rule names it).
 */
import { TL_NAME } from "./hook_names.ts";
import { type HookInfo, listHooks } from "./onnx_graph.ts";
import { ignoreMissing } from "../../pipeline/missing.ts";

export interface HookRow {
  name: string;
  shape: string;
  op: string;
  names: "mapped" | "raw";
}

/** Hook rows (name, shape like `[batch, seq, 512]`, producing op) for `dir`. */
export async function listHooksForModelDir(dir: string, onnxFile = "model.onnx"): Promise<HookRow[]> {
  let hooks: HookInfo[];
  try {
    hooks = JSON.parse(await Deno.readTextFile(`${dir}/hooks.json`));
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    let bytes: Uint8Array;
    try {
      bytes = await Deno.readFile(`${dir}/onnx/${onnxFile}`);
    } catch (e2) {
      ignoreMissing(e2);
      throw new Error(
        `no hooks.json or onnx/${onnxFile} in "${dir}" (run the model stage first: deno task pipeline --until model)`,
      );
    }
    hooks = listHooks(bytes);
  }
  return hooks.map((h) => ({
    name: h.name,
    shape: `[${h.shape.join(", ")}]`,
    op: h.op,
    names: TL_NAME.test(h.name) ? "mapped" : "raw",
  }));
}
