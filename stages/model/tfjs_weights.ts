/**
 * Reads the weights of a TF.js graph model (`model.json` + `group*-shard*` files) into typed arrays,
 * without TF.js: the shards are one concatenated buffer, sliced in manifest order.
 */

export interface TfjsWeight {
  name: string;
  shape: number[];
  dtype: "float32" | "int32";
  data: Float32Array | Int32Array;
}

export interface TfjsModel {
  /** The parsed model.json (topology + weights manifest). */
  json: {
    modelTopology: unknown;
    weightsManifest: {
      paths: string[];
      weights: { name: string; shape: number[]; dtype: string; quantization?: unknown }[];
    }[];
  };
  weights: Map<string, TfjsWeight>;
}

/** Loads `dir/model.json` and its weight shards. */
export async function readTfjsModel(dir: string): Promise<TfjsModel> {
  const json = JSON.parse(await Deno.readTextFile(`${dir}/model.json`)) as TfjsModel["json"];
  const weights = new Map<string, TfjsWeight>();
  for (const group of json.weightsManifest) {
    const parts = await Promise.all(group.paths.map((p) => Deno.readFile(`${dir}/${p}`)));
    const buf = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) (buf.set(p, at), at += p.length);
    let off = 0;
    for (const w of group.weights) {
      if (w.quantization) throw new Error(`tfjs weight ${w.name}: quantized weights are not supported`);
      if (w.dtype !== "float32" && w.dtype !== "int32") {
        throw new Error(`tfjs weight ${w.name}: dtype ${w.dtype} not supported`);
      }
      const n = w.shape.reduce((a, b) => a * b, 1);
      const bytes = buf.slice(off, off + n * 4); // aligned copy
      const data = w.dtype === "float32" ? new Float32Array(bytes.buffer) : new Int32Array(bytes.buffer);
      weights.set(w.name, { name: w.name, shape: w.shape, dtype: w.dtype, data });
      off += n * 4;
    }
    if (off !== buf.length) throw new Error(`tfjs weights: manifest covers ${off} of ${buf.length} bytes`);
  }
  return { json, weights };
}
