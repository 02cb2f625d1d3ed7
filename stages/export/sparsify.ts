/**
 * The same TopK SAE in EleutherAI sparsify's layout, so `SparseCoder.load_from_disk("…/sparsify/<hook>")`
 * or `SparseCoder.load_many("…/sparsify", local=True)` opens it (github.com/EleutherAI/sparsify,
 * sparsify/sparse_coder.py `save_to_disk` / `load_from_disk`, sparsify/config.py `SparseCoderConfig`):
 * - `<hook>/cfg.json`: the SparseCoderConfig fields (`activation` "topk", `expansion_factor`,
 *   `normalize_decoder`, `num_latents`, `k`, `multi_topk`, `skip_connection`, `transcode`) plus `d_in`;
 * - `<hook>/sae.safetensors`: `encoder.weight [num_latents, d_in]` (our W_enc transposed),
 *   `encoder.bias [num_latents]`, `W_dec [num_latents, d_in]`, `b_dec [d_in]`, F32 (load_model is strict,
 *   so these are exactly the module's parameters).
 * sparsify encodes TopK(ReLU((x − b_dec)·encoder.weightᵀ + encoder.bias)) and decodes z·W_dec + b_dec: the
 * same function as our TopK SAE with apply_b_dec_to_input. sparsify has no ReLU, JumpReLU or BatchTopK
 * inference coder, so only TopK SAEs get this layout.
 * A TopK transcoder (train cfg architecture `topk_transcoder` / `topk_skip_transcoder`) is sparsify's
 * `transcode: true` coder: no b_dec subtraction, and with `skip_connection` a `W_skip [d_in, d_in]` added as
 * x·W_skipᵀ (our saved [d_out, d_in] as is). sparsify sizes W_dec, b_dec and W_skip by d_in alone, so only
 * d_out = d_in transcoders fit.
 */
import { encodeSafetensors, f32, type Tensor } from "../io/safetensors.ts";
import { tensorF32 } from "./saelens.ts";

export interface SparsifyFiles {
  /** Folder name: the hook point (sparsify names a coder's folder after its hookpoint). */
  hook: string;
  "cfg.json": string;
  "sae.safetensors": Uint8Array;
}

/** Why this SAE has no sparsify layout, or null when it has one. */
export function sparsifyUnsupported(saelensCfg: Record<string, unknown>): string | null {
  if (TOPK_TRANSCODERS.includes(String(saelensCfg.architecture))) {
    const dIn = Number(saelensCfg.d_in), dOut = Number(saelensCfg.d_out);
    if (dOut !== dIn) {
      return `sparsify's SparseCoder sizes W_dec and b_dec by d_in (this transcoder: d_in ${dIn}, d_out ${dOut})`;
    }
    return null;
  }
  if (saelensCfg.architecture !== "topk") {
    return `sparsify has TopK coders only (this SAE is ${saelensCfg.architecture})`;
  }
  if (saelensCfg.apply_b_dec_to_input === false) {
    return "sparsify always subtracts b_dec from the input (transcode is for transcoders)";
  }
  return null;
}

/** The train stage's names of a TopK transcoder (SAELens has none). */
export const TOPK_TRANSCODERS = ["topk_transcoder", "topk_skip_transcoder"];

/** The sparsify folder's files from the SAELens cfg object and the train weights. */
export function buildSparsify(saelensCfg: Record<string, unknown>, weights: Record<string, Tensor>): SparsifyFiles {
  const why = sparsifyUnsupported(saelensCfg);
  if (why) throw new Error(`export: no sparsify layout: ${why}`);
  const dIn = Number(saelensCfg.d_in), dSae = Number(saelensCfg.d_sae), k = Number(saelensCfg.k);
  const wEnc = tensorF32(weights, "W_enc", [dIn, dSae]).data as Float32Array;
  const encoderWeight = new Float32Array(dSae * dIn);
  for (let i = 0; i < dIn; i++) {
    for (let j = 0; j < dSae; j++) encoderWeight[j * dIn + i] = wEnc[i * dSae + j];
  }
  const transcode = TOPK_TRANSCODERS.includes(String(saelensCfg.architecture));
  const skip = saelensCfg.architecture === "topk_skip_transcoder";
  const cfg = {
    activation: "topk",
    expansion_factor: Math.max(1, Math.round(dSae / dIn)),
    normalize_decoder: true,
    num_latents: dSae, // overrides expansion_factor
    k,
    multi_topk: false,
    skip_connection: skip,
    transcode,
    d_in: dIn,
  };
  return {
    hook: String(saelensCfg.hook_name || "sae").replace(/[^A-Za-z0-9._-]/g, "_"), // ONNX names hold "/"
    "cfg.json": JSON.stringify(cfg, null, 2) + "\n",
    "sae.safetensors": encodeSafetensors({
      "encoder.weight": f32([dSae, dIn], encoderWeight),
      "encoder.bias": tensorF32(weights, "b_enc", [dSae]),
      W_dec: tensorF32(weights, "W_dec", [dSae, dIn]),
      b_dec: tensorF32(weights, "b_dec", [dIn]),
      ...(skip ? { W_skip: tensorF32(weights, "W_skip", [dIn, dIn]) } : {}),
    }),
  };
}

/** Write `<dir>/<hook>/cfg.json` and `sae.safetensors`; returns the hook folder. */
export async function writeSparsify(
  dir: string,
  saelensCfg: Record<string, unknown>,
  weights: Record<string, Tensor>,
): Promise<string> {
  const files = buildSparsify(saelensCfg, weights);
  const folder = `${dir}/${files.hook}`;
  await Deno.mkdir(folder, { recursive: true });
  await Deno.writeTextFile(`${folder}/cfg.json`, files["cfg.json"]);
  await Deno.writeFile(`${folder}/sae.safetensors`, files["sae.safetensors"]);
  return folder;
}
