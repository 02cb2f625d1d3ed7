/**
 * Downstream fidelity: run the model with the SAE reconstruction spliced in place of the hook tensor
 * and compare its outputs with the clean run (onnxruntime-node, CPU).
 *
 * Two graphs: the clean model with the hook exposed as an extra output (`exposeHooks`), and the model
 * whose hook consumers read a new input `hook_replacement` (`spliceHook`). For each batch of sequences
 * the clean run gives the outputs and the hook activation H [b, s, d]; each variant replaces H at the
 * `splice` positions (the tokens extract kept: non-padding, minus excluded special tokens and positions
 * outside extract.seqpos_slice; the others keep their clean value) and reruns the rest:
 *   spliced: x̂ = SAE(x);  zero_ablation: 0;  mean_ablation: x̄ (the held-out mean activation).
 * A transcoder (`input` set) reads another hook than the one it replaces: the clean run exposes both, and
 * the spliced value at the replaced hook is ŷ = transcoder(input hook's rows) (mean: the target's mean).
 *
 * Encoders (outputs `sentence_embedding` and/or `last_hidden_state`), per variant against the clean run:
 *   sentence_embedding_cosine = mean over sequences of cos(e, e'),  sentence_embedding_mse = mean ‖e − e'‖²
 *   last_hidden_state_cosine / _mse: the same over non-padding tokens. With neither, the output
 *   model.output_name names: per sequence when it is [b, d], per token when [b, s, d].
 *   fraction_recovered_{zero,mean} = (M_ablated − M_spliced) / (M_ablated − M_clean), M = the embedding MSE
 *   (the last hidden state's if there is no embedding); M_clean = 0. 1 = as good as clean, 0 = no better
 *   than ablating the hook.
 * Causal LMs (output `logits` [b, s, V]), over positions p with a non-padding next token:
 *   ce_loss = mean −log softmax(logits_p)[token_{p+1}],  kl_div = mean KL(softmax(clean_p) ‖ softmax(variant_p))
 *   fraction_recovered_{zero,mean} = (CE_ablated − CE_spliced) / (CE_ablated − CE_clean),
 *   kl_recovered_{zero,mean} = (KL_ablated − KL_spliced) / KL_ablated.
 *   Plain CE numbers as SAELens names them: ce_loss_without_sae = CE_clean, ce_loss_with_sae =
 *   CE_spliced, ce_loss_with_ablation = CE_zero_ablated (all over the same positions).
 */
import * as ort from "onnxruntime-node";
import { exposeHooks, spliceHook } from "../model/onnx_graph.ts";
import type { ExternalDataFile } from "../model/external_data.ts";
import { idsFeeds, type ModelIo } from "../model/model_io.ts";
import type { DownstreamResult, VariantMetrics } from "./eval_json.ts";

export interface DownstreamInput {
  modelBytes: Uint8Array;
  /** The ONNX value name of the hook tensor (the one replaced). */
  hookTensor: string;
  /** The replaced hook's width. */
  dIn: number;
  /** A transcoder's input hook (its ONNX tensor and width), when it is not the replaced one. */
  input?: { tensor: string; d: number };
  /** Token ids [nSeq, contextSize] and the non-padding mask (1 = real token). */
  ids: Uint32Array;
  mask: Uint8Array;
  /** Where the variants replace the hook (1 = replace); default `mask`. */
  splice?: Uint8Array;
  /** The model's io (input names, compared output); default input_ids / attention_mask. */
  io?: ModelIo;
  /** The graph's external-data files (stages/model/external_data.ts). */
  externalData?: ExternalDataFile[];
  nSeq: number;
  contextSize: number;
  /** x̂ [n, dIn] for `n` rows of x (of the input hook when `input` is set); identity gives the clean model back. */
  reconstruct(x: Float32Array, n: number): Promise<Float32Array>;
  /** x̄ for mean-ablation. */
  mean: ArrayLike<number>;
  batchSequences?: number;
}

export type { DownstreamResult, VariantMetrics } from "./eval_json.ts";

const VARIANTS = ["spliced", "zero_ablation", "mean_ablation"] as const;
type Variant = typeof VARIANTS[number];

/** Sums and counts of named per-item quantities; `mean()` divides. */
class Means {
  #sum = new Map<string, number>();
  #n = new Map<string, number>();
  add(name: string, v: number): void {
    this.#sum.set(name, (this.#sum.get(name) ?? 0) + v);
    this.#n.set(name, (this.#n.get(name) ?? 0) + 1);
  }
  mean(): Record<string, number> {
    return Object.fromEntries([...this.#sum].map(([k, s]) => [k, s / this.#n.get(k)!]));
  }
}

/** Adds cos and squared distance of `count` rows of width `d` (only rows where `use(row)`). */
function compareRows(
  a: Float32Array,
  b: Float32Array,
  d: number,
  count: number,
  name: string,
  out: Means,
  use = (_r: number) => true,
): void {
  for (let r = 0; r < count; r++) {
    if (!use(r)) continue;
    let ab = 0, aa = 0, bb = 0, sq = 0;
    for (let j = r * d; j < (r + 1) * d; j++) {
      const x = a[j], y = b[j];
      ab += x * y;
      aa += x * x;
      bb += y * y;
      sq += (x - y) * (x - y);
    }
    out.add(`${name}_mse`, sq);
    out.add(`${name}_cosine`, aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : aa === bb ? 1 : 0);
  }
}

/** log-softmax of `v[o .. o + n]` into `out`. */
function logSoftmax(v: Float32Array, o: number, n: number, out: Float64Array): void {
  let m = -Infinity;
  for (let i = 0; i < n; i++) m = Math.max(m, v[o + i]);
  let s = 0;
  for (let i = 0; i < n; i++) s += Math.exp(v[o + i] - m);
  const lse = m + Math.log(s);
  for (let i = 0; i < n; i++) out[i] = v[o + i] - lse;
}

export async function downstreamFidelity(input: DownstreamInput): Promise<DownstreamResult> {
  const { hookTensor, dIn, nSeq, contextSize: S } = input;
  if (nSeq === 0) throw new Error("downstream fidelity: no sequences to run");
  const opts = input.externalData?.length ? { externalData: input.externalData } : {};
  const exposed = input.input ? [hookTensor, input.input.tensor] : [hookTensor];
  const clean = await ort.InferenceSession.create(exposeHooks(input.modelBytes, exposed), opts);
  const spliced = await ort.InferenceSession.create(spliceHook(input.modelBytes, hookTensor), opts);
  try {
    const outs = clean.outputNames.filter((o) => !exposed.includes(o));
    const io = input.io ?? {
      kind: outs.includes("logits") ? "causal_lm" : "encoder",
      input_ids: "input_ids",
      attention_mask: "attention_mask",
      token_type_ids: "token_type_ids",
      output: "logits",
    };
    const kind = io.kind;
    const logitsName = io.output;
    // Encoders: the known outputs, else the one model.output_name names.
    const known = outs.filter((o) => o === "sentence_embedding" || o === "last_hidden_state");
    const compared = kind === "causal_lm" ? [logitsName] : known.length ? known : [logitsName];
    if (compared.length === 0 || !compared.every((o) => outs.includes(o))) {
      throw new Error(
        `downstream fidelity: the model has none of the outputs logits, sentence_embedding, last_hidden_state (has ${
          outs.join(", ")
        }); set model.output_name`,
      );
    }
    const splice = input.splice ?? input.mask;
    const means: Record<Variant, Means> = {
      spliced: new Means(),
      zero_ablation: new Means(),
      mean_ablation: new Means(),
    };
    const cleanMeans = new Means();
    let nTokens = 0;
    const B = input.batchSequences ?? 8;
    for (let s0 = 0; s0 < nSeq; s0 += B) {
      const b = Math.min(B, nSeq - s0);
      const ids = new BigInt64Array(b * S), am = new BigInt64Array(b * S);
      for (let i = 0; i < b * S; i++) {
        ids[i] = BigInt(input.ids[s0 * S + i]);
        am[i] = BigInt(input.mask[s0 * S + i]);
      }
      const feeds = (session: ort.InferenceSession, extra: Record<string, ort.Tensor> = {}) => {
        const all: Record<string, ort.Tensor> = {
          ...idsFeeds(
            { ...io, attention_mask: "attention_mask", token_type_ids: "token_type_ids", position_ids: "position_ids" },
            (d) => new ort.Tensor("int64", d, [b, S]),
            ids,
            am,
            S,
          ),
          ...extra,
        };
        return Object.fromEntries(session.inputNames.map((n) => {
          if (!all[n]) throw new Error(`downstream fidelity: the model input "${n}" is not one this stage can feed`);
          return [n, all[n]];
        }));
      };
      const c = await clean.run(feeds(clean));
      const hook = c[hookTensor];
      if (hook.dims.length !== 3 || hook.dims[2] !== dIn || hook.dims[0] !== b || hook.dims[1] !== S) {
        throw new Error(
          `downstream fidelity: hook "${hookTensor}" has shape [${hook.dims}], expected [${b}, ${S}, ${dIn}]`,
        );
      }
      const H = hook.data as Float32Array;
      const maskRows: number[] = [];
      for (let i = 0; i < b * S; i++) if (splice[s0 * S + i]) maskRows.push(i);
      nTokens += maskRows.length;
      // the SAE's input rows: the replaced hook's own, or a transcoder's input hook's
      const src = input.input ? c[input.input.tensor].data as Float32Array : H;
      const dx = input.input?.d ?? dIn;
      if (src.length !== b * S * dx) throw new Error(`downstream fidelity: input hook has ${src.length} values`);
      const x = new Float32Array(maskRows.length * dx);
      maskRows.forEach((r, j) => x.set(src.subarray(r * dx, (r + 1) * dx), j * dx));
      const xhat = await input.reconstruct(x, maskRows.length);
      for (const v of VARIANTS) {
        const rep = H.slice();
        maskRows.forEach((r, j) => {
          const dst = rep.subarray(r * dIn, (r + 1) * dIn);
          if (v === "spliced") dst.set(xhat.subarray(j * dIn, (j + 1) * dIn));
          else if (v === "zero_ablation") dst.fill(0);
          else for (let k = 0; k < dIn; k++) dst[k] = input.mean[k];
        });
        const o = await spliced.run(
          feeds(spliced, { hook_replacement: new ort.Tensor("float32", rep, hook.dims as number[]) }),
        );
        const m = means[v];
        const isReal = (r: number) => input.mask[s0 * S + r] === 1;
        if (kind === "encoder") {
          // [b, d] outputs compare per sequence, [b, s, d] per real token
          for (const name of compared) {
            const e = c[name], d = e.dims[e.dims.length - 1] as number, perToken = e.dims.length === 3;
            compareRows(
              e.data as Float32Array,
              o[name].data as Float32Array,
              d,
              perToken ? b * S : b,
              name,
              m,
              (r) => !perToken || isReal(r),
            );
          }
        } else {
          const l = c[logitsName];
          if (l.dims.length !== 3 || l.dims[1] !== S) {
            throw new Error(
              `downstream fidelity: output "${logitsName}" has shape [${l.dims}] for ${S} positions; export logits for every position`,
            );
          }
          lmLosses(l, o[logitsName], input.ids, input.mask, s0, b, S, m, v === "spliced" ? cleanMeans : null);
        }
      }
    }
    const r: Record<Variant, VariantMetrics> = {
      spliced: means.spliced.mean(),
      zero_ablation: means.zero_ablation.mean(),
      mean_ablation: means.mean_ablation.mean(),
    };
    const recovered = (key: string, cleanValue: number) => (abl: Variant) =>
      (r[abl][key] - r.spliced[key]) / (r[abl][key] - cleanValue);
    const inputTensor = input.input ? { input_hook_tensor: input.input.tensor } : {};
    const base = { kind, hook_tensor: hookTensor, ...inputTensor, n_sequences: nSeq, n_tokens: nTokens, ...r } as const;
    if (kind === "causal_lm") {
      const cleanCe = cleanMeans.mean().ce_loss;
      const ce = recovered("ce_loss", cleanCe), kl = recovered("kl_div", 0);
      return {
        ...base,
        clean_ce_loss: cleanCe,
        ce_loss_without_sae: cleanCe,
        ce_loss_with_sae: r.spliced.ce_loss,
        ce_loss_with_ablation: r.zero_ablation.ce_loss,
        fraction_recovered_zero: ce("zero_ablation"),
        fraction_recovered_mean: ce("mean_ablation"),
        kl_recovered_zero: kl("zero_ablation"),
        kl_recovered_mean: kl("mean_ablation"),
      };
    }
    const key = `${compared.includes("sentence_embedding") ? "sentence_embedding" : compared[0]}_mse`;
    const f = recovered(key, 0);
    return { ...base, fraction_recovered_zero: f("zero_ablation"), fraction_recovered_mean: f("mean_ablation") };
  } finally {
    await clean.release();
    await spliced.release();
  }
}

/** CE of next-token prediction and KL(clean ‖ variant) at each position whose next token is real. */
function lmLosses(
  clean: ort.Tensor,
  variant: ort.Tensor,
  ids: Uint32Array,
  mask: Uint8Array,
  s0: number,
  b: number,
  S: number,
  out: Means,
  cleanOut: Means | null,
): void {
  const V = clean.dims[2] as number;
  const lc = clean.data as Float32Array, lv = variant.data as Float32Array;
  const pc = new Float64Array(V), pv = new Float64Array(V);
  for (let s = 0; s < b; s++) {
    for (let p = 0; p + 1 < S; p++) {
      const i = (s0 + s) * S + p;
      if (!mask[i] || !mask[i + 1]) continue;
      const o = (s * S + p) * V;
      logSoftmax(lc, o, V, pc);
      logSoftmax(lv, o, V, pv);
      const next = ids[i + 1];
      let kl = 0;
      for (let j = 0; j < V; j++) kl += Math.exp(pc[j]) * (pc[j] - pv[j]);
      out.add("ce_loss", -pv[next]);
      out.add("kl_div", kl);
      cleanOut?.add("ce_loss", -pc[next]);
    }
  }
}
