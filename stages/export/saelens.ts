/**
 * The SAELens folder: `cfg.json`, `sae_weights.safetensors`, `sparsity.safetensors`, laid out as SAELens'
 * `save_model` writes them so `SAE.load_from_disk(folder)` (SAELens 5 and 6) opens it:
 * - cfg.json: the SAELens 6 layout (`SAE.save_model`): the config-class fields at the top level, `metadata`
 *   with `sae_lens_version` (the SAELens format we follow, SAELENS_FORMAT_VERSION) so SAELens 6 reads it as
 *   a 6.x config and keeps the whole `metadata` block (without the version it runs `handle_pre_6_0_config`,
 *   which keeps only its own LLM keys and drops ours: hook_layer, k, seed, training_tokens, ...);
 *   `sae_lens_training_version` is null (SAELens did not train it). The flat pre-6.0 fields (`hook_name`,
 *   `activation_fn_kwargs`, ...) stay at the top level too, for SAELens 5.
 * - weights: `W_enc [d_in, d_sae]`, `W_dec [d_sae, d_in]`, `b_enc [d_sae]`, `b_dec [d_in]`, `threshold
 *   [d_sae]` for JumpReLU; F32, tensors in name order, as Python `safetensors.save_file` orders them.
 *   BatchTopK is saved as JumpReLU with its learned threshold (SAELens does the same). Gated (SAELens
 *   GatedSAE): `W_enc`, `W_dec`, `b_dec`, `b_gate`, `b_mag`, `r_mag [d_sae]`, no `b_enc`.
 *   Transcoders (SAELens TranscoderConfig: architecture "transcoder" / "skip_transcoder" /
 *   "jumprelu_transcoder", cfg `d_out`, `hook_name_out`, `hook_layer_out`, `hook_head_index_out`,
 *   apply_b_dec_to_input false): `W_dec [d_sae, d_out]`, `b_dec [d_out]`, `W_skip [d_out, d_in]` (SkipTranscoder),
 *   `threshold` (JumpReLUTranscoder).
 * - sparsity: `sparsity [d_sae] = log10(density + 1e-10)` with density = fraction of tokens a latent fires on.
 * The weights work on raw activations: the train stage folds any activation scaling in
 * (W_enc·s, b_dec/s, W_dec/s, threshold unchanged for `expected_average_only_in`), so
 * `normalize_activations` is written as "none".
 */
import { encodeSafetensors, f32, type Tensor } from "../io/safetensors.ts";

export interface SaelensSources {
  /** The train stage's cfg.json. */
  trainCfg: Record<string, unknown>;
  /** The train stage's weights (raw activation space). */
  weights: Record<string, Tensor>;
  /** pretokenize meta.json (fallback for context_size, prepend_bos, dataset_path). */
  pretokenizeMeta?: Record<string, unknown>;
  /** Per-latent firing density in [0, 1] (length d_sae), or null when unknown. */
  density: Float64Array | null;
}

export interface SaelensFiles {
  "cfg.json": string;
  "sae_weights.safetensors": Uint8Array;
  "sparsity.safetensors"?: Uint8Array;
}

/** The SAELens release whose cfg.json layout this folder follows (read by `handle_config_defaulting`). */
export const SAELENS_FORMAT_VERSION = "6.18.0";

const TRAIN_TO_EXPORT_ARCH: Record<string, string> = {
  topk: "topk",
  batchtopk: "jumprelu",
  jumprelu: "jumprelu",
  standard: "standard",
  gated: "gated",
  matryoshka_batchtopk: "jumprelu",
  // transcoders: the train stage already names them as SAELens does
  transcoder: "transcoder",
  skip_transcoder: "skip_transcoder",
  jumprelu_transcoder: "jumprelu_transcoder",
};

const TRANSCODERS = ["transcoder", "skip_transcoder", "jumprelu_transcoder"];

function first<T>(...vals: (T | undefined | null)[]): T | null {
  for (const v of vals) if (v !== undefined && v !== null) return v;
  return null;
}

/** The SAELens cfg.json object (key order fixed, so the bytes are stable). */
export function saelensCfg(src: SaelensSources): Record<string, unknown> {
  const t = src.trainCfg, p = src.pretokenizeMeta ?? {};
  const trainArch = String(t.architecture ?? "");
  const architecture = TRAIN_TO_EXPORT_ARCH[trainArch];
  if (!architecture) {
    throw new Error(
      `export: unknown train architecture "${trainArch}" (${Object.keys(TRAIN_TO_EXPORT_ARCH).join(" | ")})`,
    );
  }
  const d_in = Number(t.d_in), d_sae = Number(t.d_sae);
  if (!(d_in > 0 && d_sae > 0)) {
    throw new Error(`export: train cfg.json needs d_in and d_sae, got ${t.d_in}, ${t.d_sae}`);
  }
  const hook_name = first(t.hook_name as string, t.hook_point as string) ?? "";
  const layerMatch = /^blocks\.(\d+)\./.exec(hook_name);
  const meta = {
    model_name: first(t.model_name as string) ?? "",
    hook_name,
    hook_layer: first(t.hook_layer as number, layerMatch ? Number(layerMatch[1]) : null) ?? 0,
    hook_head_index: first(t.hook_head_index as number),
    context_size: first(t.context_size as number, p.context_size as number),
    prepend_bos: first(t.prepend_bos as boolean, p.prepend_bos as boolean) ?? false,
    dataset_path: first(t.dataset_path as string, p.corpus as string) ?? "",
  };
  const k = Number(t.k ?? (t.activation_fn_kwargs as { k?: number } | undefined)?.k);
  const transcoder = TRANSCODERS.includes(architecture);
  const d_out = Number(t.d_out);
  if (transcoder && !(d_out > 0)) throw new Error(`export: ${architecture} cfg.json needs d_out, got ${t.d_out}`);
  const out = transcoder
    ? {
      d_out,
      hook_name_out: String(t.hook_name_out ?? ""),
      hook_layer_out: Number(t.hook_layer_out ?? 0),
      hook_head_index_out: first(t.hook_head_index_out as number),
    }
    : {};
  const cfg: Record<string, unknown> = {
    architecture,
    d_in,
    d_sae,
    ...out,
    dtype: "float32",
    device: "cpu",
    ...meta,
    activation_fn: architecture === "topk" ? "topk" : "relu",
    activation_fn_kwargs: architecture === "topk" ? { k } : {},
    apply_b_dec_to_input: t.apply_b_dec_to_input !== false,
    finetuning_scaling_factor: false,
    normalize_activations: "none",
    dataset_trust_remote_code: false,
    reshape_activations: hook_name.endsWith("hook_z") ? "hook_z" : "none",
    sae_lens_training_version: null,
  };
  if (architecture === "topk") {
    if (!(Number.isInteger(k) && k > 0 && k <= d_sae)) {
      throw new Error(`export: topk cfg needs k in 1..${d_sae}, got ${t.k}`);
    }
    cfg.k = k;
    cfg.rescale_acts_by_decoder_norm = false; // TopKSAEConfig field; our decoder rows are already unit norm
  }
  // Train-side provenance (training architecture, scaling factor folded in, ...) is kept; SAELens 6
  // accepts any metadata keys, SAELens 5 ignores the block.
  const trainMeta = t.metadata && typeof t.metadata === "object" ? t.metadata as Record<string, unknown> : {};
  cfg.metadata = {
    ...trainMeta,
    ...meta,
    sae_lens_version: SAELENS_FORMAT_VERSION,
    sae_lens_training_version: null,
  };
  return cfg;
}

/** The train tensor `name`, checked against `shape`, as F32. */
export function tensorF32(w: Record<string, Tensor>, name: string, shape: number[]): Tensor {
  const t = w[name];
  if (!t) throw new Error(`export: train weights lack "${name}"`);
  if (t.shape.join(",") !== shape.join(",")) {
    throw new Error(`export: train tensor "${name}" has shape [${t.shape}], expected [${shape}]`);
  }
  if (t.dtype === "F32") return t;
  if (t.dtype === "F64") return f32(shape, Float32Array.from(t.data as Float64Array));
  throw new Error(`export: train tensor "${name}" is ${t.dtype}, expected F32`);
}

/** sparsity = log10(density + 1e-10), as SAELens' `log_feature_sparsity`. */
export function logSparsity(density: ArrayLike<number>): Float32Array {
  const out = new Float32Array(density.length);
  for (let i = 0; i < density.length; i++) out[i] = Math.log10(density[i] + 1e-10);
  return out;
}

/** Build the three files' contents (bytes are a pure function of the inputs). */
export function buildSaelens(src: SaelensSources): SaelensFiles {
  const cfg = saelensCfg(src);
  const dIn = cfg.d_in as number, dSae = cfg.d_sae as number;
  const dOut = (cfg.d_out as number | undefined) ?? dIn;
  const w = src.weights;
  const tensors: Record<string, Tensor> = {
    W_dec: tensorF32(w, "W_dec", [dSae, dOut]),
    W_enc: tensorF32(w, "W_enc", [dIn, dSae]),
    b_dec: tensorF32(w, "b_dec", [dOut]),
  };
  if (cfg.architecture === "skip_transcoder") tensors.W_skip = tensorF32(w, "W_skip", [dOut, dIn]);
  const perLatent = cfg.architecture === "gated" ? ["b_gate", "b_mag", "r_mag"] : ["b_enc"];
  for (const name of perLatent) tensors[name] = tensorF32(w, name, [dSae]);
  if (cfg.architecture === "jumprelu" || cfg.architecture === "jumprelu_transcoder") {
    if (!w.threshold) {
      throw new Error(`export: ${src.trainCfg.architecture} weights need a "threshold" tensor [${dSae}]`);
    }
    tensors.threshold = tensorF32(w, "threshold", [dSae]);
  }
  const files: SaelensFiles = {
    "cfg.json": JSON.stringify(cfg, null, 2) + "\n",
    "sae_weights.safetensors": encodeSafetensors(tensors),
  };
  if (src.density) {
    if (src.density.length !== dSae) {
      throw new Error(`export: density has ${src.density.length} latents, d_sae is ${dSae}`);
    }
    files["sparsity.safetensors"] = encodeSafetensors({ sparsity: f32([dSae], logSparsity(src.density)) });
  }
  return files;
}

/** Write the folder. */
export async function writeSaelens(dir: string, src: SaelensSources): Promise<SaelensFiles> {
  const files = buildSaelens(src);
  await Deno.mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(files)) {
    if (typeof content === "string") await Deno.writeTextFile(`${dir}/${name}`, content);
    else await Deno.writeFile(`${dir}/${name}`, content);
  }
  return files;
}
