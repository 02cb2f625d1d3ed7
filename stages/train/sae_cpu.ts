/**
 * A trained SAE on the CPU in float64: the reference the GPU code and the evaluate/export stages
 * check against (reading a folder: loadSae in ../export/load.ts). API (stable):
 *
 *   saeFromSafetensors(tensors, cfg)     -> SaeWeights (checks shapes against cfg)
 *   preActivations(w, cfg, x, n)         -> Float64Array [n, d_sae]   pre = (x - b_dec)·W_enc + b_enc
 *   encode(w, cfg, x, n)                 -> Float64Array [n, d_sae]   latents z (dense)
 *   decode(w, cfg, z, n)                 -> Float64Array [n, d_in]    x̂ = z·W_dec + b_dec
 *   activate(cfg, pre, d_sae, threshold) -> z from pre (in place on a copy)
 *
 * Activations (SAELens inference semantics; `x - b_dec` only when apply_b_dec_to_input, default true):
 *   topk:      z = ReLU(TopK_k(pre))          (ties broken by the lower latent index)
 *   standard:  z = ReLU(pre)
 *   jumprelu:  z = ReLU(pre) · [pre > threshold]
 *   batchtopk: as jumprelu with its learned threshold (BatchTopK is a training-time rule; SAELens
 *              saves it as a JumpReLU SAE, which is what the train stage writes)
 *   gated:     z = [xc·W_enc + b_gate > 0] · ReLU(xc·(W_enc·e^{r_mag}) + b_mag) (SAELens GatedSAE). As
 *              e^{r_mag} > 0 the gate opens exactly when π_mag > b_mag − e^{r_mag}·b_gate, so a gated SAE
 *              is the JumpReLU SAE with W_enc' = W_enc·e^{r_mag}, b_enc' = b_mag and that threshold:
 *              saeFromSafetensors returns those (pre = π_mag, SAELens' hook_sae_acts_pre) and keeps the
 *              file's tensors in `gated`.
 * Transcoders (SAELens Transcoder, SkipTranscoder, JumpReLUTranscoder): read one hook, reconstruct another of
 * width d_out. No b_dec subtraction (b_dec [d_out] is on the output side): pre = x·W_enc + b_enc; z as
 * standard ("transcoder", "skip_transcoder") or jumprelu ("jumprelu_transcoder"); decode ŷ = z·W_dec + b_dec
 * [n, d_out]; a skip transcoder's forward adds x·W_skipᵀ (W_skip [d_out, d_in]: `addSkip`), as SAELens's
 * `forward` does (its `decode` does not).
 * Weights are in raw activation space (the train stage folds any activation scaling into them).
 */
import type { Tensor } from "../io/safetensors.ts";

export type SaeArchitecture =
  | "topk"
  | "batchtopk"
  | "standard"
  | "jumprelu"
  | "gated"
  | "transcoder"
  | "skip_transcoder"
  | "jumprelu_transcoder";

/** The cfg.json fields this module reads (the file holds more). */
export interface SaeConfig {
  architecture: SaeArchitecture | string;
  d_in: number;
  d_sae: number;
  k?: number | null;
  /** Transcoders: the width of the hook they reconstruct (hook_name_out). */
  d_out?: number;
  apply_b_dec_to_input?: boolean;
  [extra: string]: unknown;
}

type Vec = Float32Array | Float64Array;

export interface SaeWeights {
  W_enc: Vec; // [d_in, d_sae]
  W_dec: Vec; // [d_sae, d_out] (d_out = d_in but for transcoders)
  b_enc: Vec; // [d_sae]
  b_dec: Vec; // [d_out]
  /** Skip transcoder: [d_out, d_in] (SAELens's layout). */
  W_skip?: Vec;
  threshold?: Vec; // [d_sae] (jumprelu, batchtopk; gated: its equivalent threshold)
  /** Gated: the file's tensors (W_enc [d_in, d_sae], b_gate, b_mag, r_mag [d_sae]). */
  gated?: { W_enc: Vec; b_gate: Vec; b_mag: Vec; r_mag: Vec };
}

// topk_transcoder / topk_skip_transcoder: ours (SAELens has no TopK transcoder; sparsify's `transcode`).
const TRANSCODERS = ["transcoder", "skip_transcoder", "jumprelu_transcoder", "topk_transcoder", "topk_skip_transcoder"];
const TOPK = ["topk", "topk_transcoder", "topk_skip_transcoder"];
const ARCHS = ["topk", "batchtopk", "standard", "jumprelu", "gated", ...TRANSCODERS];

/** A transcoder architecture (reads one hook, writes another). */
export function isTranscoder(cfg: Pick<SaeConfig, "architecture">): boolean {
  return TRANSCODERS.includes(cfg.architecture);
}

/** The width of the reconstruction: d_out for transcoders, else d_in. */
export function outputWidth(cfg: SaeConfig): number {
  return isTranscoder(cfg) ? cfg.d_out! : cfg.d_in;
}

/** The JumpReLU form of a gated SAE (module doc): W_enc·e^{r_mag}, b_mag, threshold b_mag − e^{r_mag}·b_gate. */
export function gatedAsJumpRelu(g: NonNullable<SaeWeights["gated"]>, d_sae: number) {
  const scale = Float64Array.from(g.r_mag, Math.exp);
  const W_enc = Float64Array.from(g.W_enc, (v, j) => v * scale[j % d_sae]);
  const threshold = Float64Array.from(g.b_mag, (b, i) => b - scale[i] * g.b_gate[i]);
  return { W_enc, b_enc: Float64Array.from(g.b_mag), threshold };
}

function checkCfg(cfg: SaeConfig): void {
  if (!ARCHS.includes(cfg.architecture)) {
    throw new Error(`SAE architecture "${cfg.architecture}" is not one of ${ARCHS.join(", ")}`);
  }
  if (TOPK.includes(cfg.architecture) && !(Number.isInteger(cfg.k) && cfg.k! >= 1 && cfg.k! <= cfg.d_sae)) {
    throw new Error(`${cfg.architecture} SAE needs an integer k in 1..d_sae (${cfg.d_sae}), got ${cfg.k}`);
  }
  if (isTranscoder(cfg) && !(Number.isInteger(cfg.d_out) && cfg.d_out! >= 1)) {
    throw new Error(`${cfg.architecture} needs a positive integer d_out, got ${cfg.d_out}`);
  }
}

/** Weights from a safetensors tensor dict, with every shape checked against cfg. */
export function saeFromSafetensors(tensors: Record<string, Tensor>, cfg: SaeConfig): SaeWeights {
  checkCfg(cfg);
  const { d_in, d_sae } = cfg;
  const get = (name: string, shape: number[], required = true): Vec | undefined => {
    const t = tensors[name];
    if (!t) {
      if (required) throw new Error(`SAE weights lack tensor "${name}"`);
      return undefined;
    }
    if (t.shape.join(",") !== shape.join(",")) {
      throw new Error(`SAE tensor "${name}" has shape [${t.shape}], cfg says [${shape}]`);
    }
    if (!(t.data instanceof Float32Array || t.data instanceof Float64Array)) {
      throw new Error(`SAE tensor "${name}" has dtype ${t.dtype}; expected F32 or F64`);
    }
    return t.data;
  };
  if (cfg.architecture === "gated") {
    const gated = {
      W_enc: get("W_enc", [d_in, d_sae])!,
      b_gate: get("b_gate", [d_sae])!,
      b_mag: get("b_mag", [d_sae])!,
      r_mag: get("r_mag", [d_sae])!,
    };
    return {
      ...gatedAsJumpRelu(gated, d_sae),
      W_dec: get("W_dec", [d_sae, d_in])!,
      b_dec: get("b_dec", [d_in])!,
      gated,
    };
  }
  const needsThreshold = ["jumprelu", "batchtopk", "jumprelu_transcoder"].includes(cfg.architecture);
  const O = outputWidth(cfg);
  const skip = cfg.architecture.endsWith("skip_transcoder");
  return {
    W_enc: get("W_enc", [d_in, d_sae])!,
    W_dec: get("W_dec", [d_sae, O])!,
    b_enc: get("b_enc", [d_sae])!,
    b_dec: get("b_dec", [O])!,
    threshold: get("threshold", [d_sae], needsThreshold),
    ...(skip ? { W_skip: get("W_skip", [O, d_in])! } : {}),
  };
}

/** pre[t, i] = Σ_d (x[t, d] − b_dec[d]) · W_enc[d, i] + b_enc[i], in float64. */
export function preActivations(w: SaeWeights, cfg: SaeConfig, x: Vec, n: number): Float64Array {
  const { d_in, d_sae } = cfg;
  if (x.length !== n * d_in) throw new Error(`encode: x has ${x.length} values, expected ${n} × d_in ${d_in}`);
  const sub = cfg.apply_b_dec_to_input !== false && !isTranscoder(cfg);
  const pre = new Float64Array(n * d_sae);
  const xc = new Float64Array(d_in);
  for (let t = 0; t < n; t++) {
    for (let d = 0; d < d_in; d++) xc[d] = x[t * d_in + d] - (sub ? w.b_dec[d] : 0);
    const row = pre.subarray(t * d_sae, (t + 1) * d_sae);
    for (let i = 0; i < d_sae; i++) row[i] = w.b_enc[i];
    for (let d = 0; d < d_in; d++) {
      const v = xc[d];
      if (v === 0) continue;
      const wr = d * d_sae;
      for (let i = 0; i < d_sae; i++) row[i] += v * w.W_enc[wr + i];
    }
  }
  return pre;
}

/** Indices of the k largest entries of `row` (ties: lower index first), in descending value order. */
export function topkIndices(row: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: row.length }, (_, i) => i);
  idx.sort((a, b) => (row[b] - row[a]) || (a - b));
  return idx.slice(0, k);
}

/** Latents from pre-activations (a new array), per the architecture's inference rule. */
export function activate(cfg: SaeConfig, pre: Float64Array, threshold?: Vec): Float64Array {
  checkCfg(cfg);
  const d = cfg.d_sae;
  const n = pre.length / d;
  const z = new Float64Array(pre.length);
  for (let t = 0; t < n; t++) {
    const row = pre.subarray(t * d, (t + 1) * d);
    if (TOPK.includes(cfg.architecture)) {
      for (const i of topkIndices(row, cfg.k!)) z[t * d + i] = Math.max(0, row[i]);
    } else if (
      cfg.architecture === "standard" || cfg.architecture === "transcoder" || cfg.architecture === "skip_transcoder"
    ) {
      for (let i = 0; i < d; i++) z[t * d + i] = Math.max(0, row[i]);
    } else {
      if (!threshold) throw new Error(`${cfg.architecture} SAE needs a threshold tensor`);
      for (let i = 0; i < d; i++) z[t * d + i] = row[i] > threshold[i] && row[i] > 0 ? row[i] : 0;
    }
  }
  return z;
}

/** Dense latents z [n, d_sae] of `n` activation rows x [n, d_in]. */
export function encode(w: SaeWeights, cfg: SaeConfig, x: Vec, n: number): Float64Array {
  return activate(cfg, preActivations(w, cfg, x, n), w.threshold);
}

/** Reconstruction x̂[t, d] = Σ_i z[t, i] · W_dec[i, d] + b_dec[d], d < d_out (skips zero latents). */
export function decode(w: SaeWeights, cfg: SaeConfig, z: Vec, n: number): Float64Array {
  const { d_sae } = cfg;
  const d_in = outputWidth(cfg);
  if (z.length !== n * d_sae) throw new Error(`decode: z has ${z.length} values, expected ${n} × d_sae ${d_sae}`);
  const out = new Float64Array(n * d_in);
  for (let t = 0; t < n; t++) {
    const o = out.subarray(t * d_in, (t + 1) * d_in);
    for (let d = 0; d < d_in; d++) o[d] = w.b_dec[d];
    for (let i = 0; i < d_sae; i++) {
      const v = z[t * d_sae + i];
      if (v === 0) continue;
      const r = i * d_in;
      for (let d = 0; d < d_in; d++) o[d] += v * w.W_dec[r + d];
    }
  }
  return out;
}

/** A skip transcoder's linear path: out[t, o] += Σ_d x[t, d] · W_skip[o, d] (no-op without W_skip). */
export function addSkip(w: SaeWeights, cfg: SaeConfig, x: Vec, out: Float32Array | Float64Array, n: number): void {
  const W = w.W_skip;
  if (!W) return;
  const D = cfg.d_in, O = outputWidth(cfg);
  for (let t = 0; t < n; t++) {
    for (let o = 0; o < O; o++) {
      let acc = 0;
      for (let d = 0; d < D; d++) acc += x[t * D + d] * W[o * D + d];
      out[t * O + o] += acc;
    }
  }
}
