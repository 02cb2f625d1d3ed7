/**
 * The public load API: reopen an exported SAELens folder (`cfg.json` + `sae_weights.safetensors`, the
 * export stage's `saelens/`) in TypeScript and run it on raw activations, as SAELens' inference SAEs do:
 *
 *   const sae = await loadSae("…/saelens");
 *   const z = sae.encode(x, n);     // x: Float32Array [n, d_in] -> z: Float32Array [n, d_sae]
 *   const xHat = sae.decode(z, n);  // -> Float32Array [n, d_in]
 *
 * pre = (x − b_dec·[apply_b_dec_to_input]) · W_enc + b_enc, then per `architecture`:
 *   standard: z = ReLU(pre);  topk: z = ReLU(TopK_k(pre)) (ties: lower index);
 *   jumprelu: z = ReLU(pre) · [pre > threshold] (BatchTopK SAEs are exported as JumpReLU);
 *   gated: z = [xc·W_enc + b_gate > 0] · ReLU(xc·(W_enc·e^{r_mag}) + b_mag), run in its exact JumpReLU
 *   form (stages/train/sae_cpu.ts; `weights.gated` holds the file's tensors).
 * Decoder: x̂ = z · W_dec + b_dec. Transcoders ("transcoder", "skip_transcoder", "jumprelu_transcoder"; the train
 * stage's "topk_transcoder", "topk_skip_transcoder", which SAELens has no class for) read
 * hook_name and reconstruct hook_name_out: decode gives [n, d_out], and `forward(x, n)` adds a skip
 * transcoder's x·W_skipᵀ (SAELens's forward). The float64 arithmetic is the train stage's CPU reference
 * (stages/train/sae_cpu.ts); this module adds folder reading, checks and Float32 in/out.
 */
import { decodeSafetensors } from "../io/safetensors.ts";
import {
  addSkip,
  decode,
  encode,
  outputWidth,
  type SaeConfig,
  saeFromSafetensors,
  type SaeWeights,
} from "../train/sae_cpu.ts";

export type { SaeConfig, SaeWeights };

export interface LoadedSae {
  /** The folder's cfg.json as written (SAELens fields). */
  cfg: SaeConfig;
  architecture: string;
  dIn: number;
  dSae: number;
  /** The reconstruction's width: d_out for transcoders, else d_in. */
  dOut: number;
  /** TopK only. */
  k?: number;
  weights: SaeWeights;
  /** Latent activations, dense [n, d_sae]. */
  encode(x: Float32Array, n: number): Float32Array;
  /** Reconstruction [n, d_out] from dense latents [n, d_sae] (without a skip transcoder's W_skip path). */
  decode(z: Float32Array, n: number): Float32Array;
  /** decode(encode(x)) plus a skip transcoder's x·W_skipᵀ: the model's output [n, d_out] for inputs [n, d_in]. */
  forward(x: Float32Array, n: number): Float32Array;
}

/** An SAE from a SAELens cfg dict and safetensors bytes (checks tensor names, dtypes and shapes). */
export function parseSae(cfg: SaeConfig, weightBytes: Uint8Array): LoadedSae {
  if (!(Number(cfg.d_in) > 0 && Number(cfg.d_sae) > 0)) {
    throw new Error(`load: cfg.json needs positive d_in and d_sae, got ${cfg.d_in}, ${cfg.d_sae}`);
  }
  // SAELens 5 wrote TopK's k only inside activation_fn_kwargs.
  const kw = cfg.activation_fn_kwargs as { k?: number } | undefined;
  if (String(cfg.architecture).startsWith("topk") && cfg.k === undefined && kw?.k !== undefined) {
    cfg = { ...cfg, k: kw.k };
  }
  const weights = saeFromSafetensors(decodeSafetensors(weightBytes).tensors, cfg);
  return {
    cfg,
    architecture: String(cfg.architecture),
    dIn: cfg.d_in,
    dSae: cfg.d_sae,
    dOut: outputWidth(cfg),
    k: String(cfg.architecture).startsWith("topk") ? cfg.k ?? undefined : undefined,
    weights,
    encode: (x, n) => Float32Array.from(encode(weights, cfg, x, n)),
    decode: (z, n) => Float32Array.from(decode(weights, cfg, z, n)),
    forward: (x, n) => {
      const out = decode(weights, cfg, encode(weights, cfg, x, n), n);
      addSkip(weights, cfg, x, out, n);
      return Float32Array.from(out);
    },
  };
}

/** Open an exported SAELens folder. */
export async function loadSae(dir: string): Promise<LoadedSae> {
  let cfgText: string, bytes: Uint8Array;
  try {
    cfgText = await Deno.readTextFile(`${dir}/cfg.json`);
    bytes = await Deno.readFile(`${dir}/sae_weights.safetensors`);
  } catch (e) {
    throw new Error(
      `load: ${dir} is not a SAELens folder (needs cfg.json and sae_weights.safetensors): ${(e as Error).message}`,
    );
  }
  try {
    return parseSae(JSON.parse(cfgText), bytes);
  } catch (e) {
    throw new Error(`load ${dir}: ${(e as Error).message}`);
  }
}
