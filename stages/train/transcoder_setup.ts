/**
 * The train stage's side of transcoders (train.target_hook, train.skip_transcoder): the config checks, the
 * initial parameters, and the SAELens names and cfg fields of what is saved. The step itself is
 * ./arch_transcoder.ts; the paired batches ./paired_stream.ts.
 */
import { ParamError } from "../../pipeline/params.ts";
import type { ActivationMeta } from "../io/activations.ts";
import { latentVectors } from "./init.ts";
import { Rng } from "./rng.ts";
import type { SaeParams } from "./trainer_types.ts";

interface TranscoderKeys {
  architecture: string;
  target_hook: string | null;
  skip_transcoder: boolean;
  tied_weights: boolean;
}

/** One-line refusals, naming the key, of what a transcoder cannot be (before anything runs). */
export function checkTranscoderParams(p: TranscoderKeys): void {
  if (p.target_hook === null) {
    if (p.skip_transcoder) {
      throw new ParamError(`config key "train.skip_transcoder" needs train.target_hook (the hook it reconstructs)`);
    }
    return;
  }
  if (p.architecture === "matryoshka_batchtopk") {
    throw new ParamError(
      `config key "train.target_hook": transcoders train as standard, jumprelu, topk or batchtopk; matryoshka_batchtopk's prefix decode reads d_in-wide rows`,
    );
  }
  if (p.skip_transcoder && (p.architecture === "jumprelu" || p.architecture === "batchtopk")) {
    throw new ParamError(
      `config key "train.skip_transcoder": a skip transcoder is ReLU (SAELens skip_transcoder) or TopK (sparsify skip_connection); ${p.architecture} saves as SAELens's jumprelu_transcoder, which has no skip path; set train.architecture to standard or topk`,
    );
  }
  if (p.tied_weights) {
    throw new ParamError(
      `config key "train.tied_weights": a transcoder's decoder writes another hook, it cannot be W_encᵀ`,
    );
  }
}

/**
 * The output side's tensors (W_dec [d_sae, d_out], ŷ and its gradient [batch, d_out], W_skip [d_in, d_out]) each
 * stay in one storage binding: the dense path does not split them (the slab plan checks the input side). The
 * sparse path (topk, batchtopk) splits W_dec into slabs and its slab plan checks the batch rows; only W_skip is whole.
 */
export function checkTranscoderBindings(
  c: { d_in: number; d_sae: number; batch: number; d_out: number; architecture: string; skip?: boolean },
  maxBindingBytes: number,
): void {
  const sparse = c.architecture === "topk" || c.architecture === "batchtopk";
  if (sparse && c.skip && c.d_in * c.d_out * 4 > maxBindingBytes) {
    throw new Error(
      `train: W_skip (d_in ${c.d_in} × d_out ${c.d_out} f32) exceeds one binding of ${
        (maxBindingBytes / 2 ** 20).toFixed(0)
      } MiB; set train.skip_transcoder false`,
    );
  }
  if (sparse) return;
  const rows = Math.max(c.d_sae, c.batch, c.d_in);
  if (rows * c.d_out * 4 > maxBindingBytes) {
    throw new Error(
      `train: a transcoder keeps ${rows} × d_out ${c.d_out} f32 (${
        (rows * c.d_out * 4 / 2 ** 20).toFixed(0)
      } MiB) in one binding of ${
        (maxBindingBytes / 2 ** 20).toFixed(0)
      } MiB; lower d_sae or batch_size (train.target_hook)`,
    );
  }
}

/**
 * The architecture a transcoder is saved as: SAELens's names for the dense path and for batchtopk (saved as a
 * JumpReLU transcoder with its learned threshold, as a plain BatchTopK SAE is); a TopK transcoder, which SAELens has
 * no class for (sae_lens/saes/transcoder.py), as `topk_transcoder` / `topk_skip_transcoder`.
 */
export function transcoderArchitecture(architecture: string, skip: boolean): string {
  if (architecture === "topk") return skip ? "topk_skip_transcoder" : "topk_transcoder";
  const jump = architecture === "jumprelu" || architecture === "batchtopk";
  return skip ? "skip_transcoder" : jump ? "jumprelu_transcoder" : "transcoder";
}

/** SAELens TranscoderConfig's output-side fields. */
export function transcoderCfgFields(target: ActivationMeta) {
  return {
    d_out: target.d_in,
    hook_name_out: target.hook_name,
    hook_layer_out: target.hook_layer,
    hook_head_index_out: null,
  };
}

/**
 * Initial transcoder parameters (seeded): W_dec rows [d_sae, d_out] Gaussian at norm `decoderNorm`, W_enc
 * columns [d_in, d_sae] Gaussian at the same norm (no transpose to tie to: the widths differ), b_enc = 0,
 * b_dec = `bDec` (the target's mean), W_skip = 0 (as SAELens), thresholds log(initThreshold).
 */
export function initTranscoder(
  d: { d_in: number; d_sae: number; d_out: number; seed: number; decoderNorm: number; initThreshold: number },
  bDec: Float32Array,
  skip: boolean,
): SaeParams {
  const { d_in: D, d_sae: S, d_out: O } = d;
  const rng = new Rng(d.seed, 2);
  const W_dec = new Float32Array(S * O), W_enc = new Float32Array(D * S);
  const row = (n: number, put: (j: number, v: number) => void) => {
    const v = Array.from({ length: n }, () => rng.normal());
    const f = d.decoderNorm / Math.sqrt(v.reduce((a, b) => a + b * b, 0));
    v.forEach((x, j) => put(j, x * f));
  };
  for (let i = 0; i < S; i++) row(O, (j, v) => W_dec[i * O + j] = v);
  for (let i = 0; i < S; i++) row(D, (j, v) => W_enc[j * S + i] = v);
  const W_skip = skip ? { W_skip: new Float32Array(D * O) } : {};
  return { W_enc, W_dec, b_dec: bDec, ...latentVectors(S, d.initThreshold), ...W_skip };
}
