/**
 * The train stage's work: read the extract output, train on the GPU with checkpoints and resume,
 * write `sae_weights.safetensors` (raw activation space), `cfg.json` (SAELens fields),
 * `train_log.parquet` and `train_summary.json` into outDir.
 */
import { effectiveDeadWindow } from "./dead_window.ts";
import { join } from "node:path";
import { readActivationMeta } from "../io/activations.ts";
import { writeParquet } from "../io/parquet.ts";
import { f32, writeSafetensors } from "../io/safetensors.ts";
import { getDevice } from "../../kernels/runtime/device.ts";
import { firstPairedRows, openTarget, PairedStream } from "./paired_stream.ts";
import {
  checkTranscoderBindings,
  initTranscoder,
  transcoderArchitecture,
  transcoderCfgFields,
} from "./transcoder_setup.ts";
import { initBDec, SlabInit } from "./init.ts";
import { coefficientWarmup, learningRate } from "./schedule.ts";
import {
  GpuTrainer,
  isSparse,
  type Metrics,
  PARAM_NAMES,
  type SaeParams,
  type StepHyper,
  type TrainerConfig,
} from "./trainer.ts";
import { loadCheckpoint, saveCheckpoint } from "./checkpoint.ts";
import { checkMatryoshkaWidths } from "./arch_matryoshka.ts";
import { normalizesDecoder, sparsityCoefficient, type TrainParams } from "./params.ts";
import { LOG_SCHEMA } from "./log_schema.ts";
import { shortReachNotice, thresholdReach } from "./threshold_reach.ts";

export interface TrainIO {
  params: TrainParams;
  /** The extract stage's output dir. */
  extractDir: string;
  outDir: string;
  scratchDir: string;
  signal?: AbortSignal;
  progress?(done: number, total: number, info?: string): void;
  log?(message: string): void;
  /** Stop (as if interrupted) after this many steps: for resume tests. */
  stopAfterSteps?: number;
}

export { LOG_SCHEMA };

export class TrainInterrupted extends Error {
  constructor(step: number) {
    super(`train: interrupted at step ${step}; checkpoint saved, the next run resumes from it`);
    this.name = "TrainInterrupted";
  }
}

export async function trainSae(io: TrainIO): Promise<Record<string, unknown>> {
  const p = io.params;
  const log = io.log ?? (() => {});
  const meta = await readActivationMeta(io.extractDir);
  const D = meta.d_in;
  const S = p.d_sae ?? p.expansion_factor * D;
  if (p.k > S) throw new Error(`train: k = ${p.k} exceeds d_sae = ${S}`);
  const train = meta.splits.train;
  if (!train?.n_tokens) throw new Error(`train: the extract output has no train rows`);
  const B = p.batch_size;
  const tokens = p.training_tokens ?? Math.round(p.epochs * train.n_tokens);
  const steps = Math.floor(tokens / B);
  if (steps < 1) throw new Error(`train: ${tokens} training tokens is less than one batch of ${B}`);
  if (p.architecture === "jumprelu") {
    const notice = shortReachNotice(
      thresholdReach(steps, p.lr, p.lr_warmup_steps, p.lr_decay),
      p.jumprelu_init_threshold,
    );
    if (notice) log(notice);
  }
  const normalize = p.normalize_activations === "expected_average_only_in";
  const scale = normalize ? Math.sqrt(D) / (meta.mean_norm || 1) : 1;
  // a transcoder's target y has its own scale s_out (mean norm √d_out), folded into the decoder side
  const target = p.target_hook === null ? null : await openTarget(io.extractDir, meta, p.target_hook);
  const O = target?.meta.d_in;
  if (target && normalize) target.scale = Math.sqrt(O!) / (target.meta.mean_norm || 1);
  // AuxK reconstructs the residual of what is decoded: half its width (a transcoder's d_out, as sparsify)
  const auxK = isSparse(p.architecture) ? Math.min(p.aux_k ?? Math.floor((O ?? D) / 2), S) : 0;
  const matryoshkaWidths = p.architecture === "matryoshka_batchtopk" ? resolveWidths(p, S) : undefined;
  const cfg: TrainerConfig = {
    architecture: p.architecture,
    d_in: D,
    d_sae: S,
    k: p.k,
    batch: B,
    beta1: p.adam_beta1,
    beta2: p.adam_beta2,
    eps: p.adam_epsilon,
    clipGradNorm: p.clip_grad_norm,
    normalizeDecoder: normalizesDecoder(p),
    deadWindow: effectiveDeadWindow(p.dead_feature_window, steps * B, B, log),
    auxK,
    bandwidth: p.jumprelu_bandwidth,
    batchTopkCap: p.batchtopk_candidates,
    thresholdDecay: p.threshold_decay,
    gatedFrozenDecoder: p.gated_frozen_decoder,
    tiedWeights: p.tied_weights,
    resampling: p.resample_every > 0,
    matryoshkaWidths,
    ...(target ? { d_out: O, skip: p.skip_transcoder } : {}),
  };
  if (p.architecture === "gated" && p.gated_frozen_decoder && !cfg.normalizeDecoder) {
    throw new Error(`train: gated_frozen_decoder needs normalize_decoder true (free-norm rows collapse the gate)`);
  }
  const device = await getDevice();
  if (target) checkTranscoderBindings({ ...cfg, d_out: O! }, device.limits.maxStorageBufferBindingSize);
  const sample = await firstPairedRows(io.extractDir, meta, target, "train", 16384, scale);
  const dims = {
    d_in: D,
    d_sae: S,
    seed: p.seed,
    decoderNorm: normalizesDecoder(p) ? 1 : 0.1,
    initThreshold: p.jumprelu_init_threshold,
  };
  // a plain SAE's weights are drawn slab by slab as they upload (no whole host copies of W_enc / W_dec)
  const init = target
    ? initTranscoder({ ...dims, d_out: O! }, initBDec(sample.y!, O!, p.b_dec_init), p.skip_transcoder)
    : new SlabInit(dims, initBDec(sample.x, D, p.b_dec_init));
  const trainer = await GpuTrainer.create(device, cfg, init);
  try {
    const stream = new PairedStream(io.extractDir, meta, target, "train", B, p.shuffle_buffer_tokens, p.seed, scale);
    const sparsity = sparsityCoefficient(p);
    const hyper = (s: number): StepHyper => ({
      lr: learningRate(s, steps, p.lr, p.lr_warmup_steps, p.lr_decay),
      t: s + 1,
      // matryoshka: every level's reconstruction counts in full from the first step (SAELens, dictionary_learning)
      sparsityCoef: matryoshkaWidths ? 1 : coefficientWarmup(s, sparsity, p.l1_warmup_steps),
      auxCoef: p.aux_k_coefficient,
    });
    const fingerprint = JSON.stringify({ p, D, S, steps, n: train.n_tokens, scale, sOut: target?.scale });
    let rows: Record<string, number | null>[] = [];
    let start = 0;
    let resampled = 0; // latents re-initialised since the last log row
    const ck = await loadCheckpoint(io.scratchDir, fingerprint);
    if (ck) {
      await trainer.restore(ck.tensors);
      rows = ck.log;
      start = ck.step;
      resampled = ck.tensors.resampled_pending?.[0] ?? 0;
      log(`resuming from the checkpoint at step ${start}`);
      for (let s = 0; s < start; s++) await stream.next(); // replay the data order
    }
    const valBatches: { x: Float32Array; y?: Float32Array }[] = [];
    const nVal = Math.floor(p.validation_tokens / B);
    if (nVal > 0 && meta.splits.heldout?.n_tokens) {
      const v = await firstPairedRows(io.extractDir, meta, target, "heldout", nVal * B, scale);
      for (let b = 0; (b + 1) * B * D <= v.x.length; b++) {
        valBatches.push({
          x: v.x.subarray(b * B * D, (b + 1) * B * D),
          y: v.y?.subarray(b * B * O!, (b + 1) * B * O!),
        });
      }
    } else if (p.validation_tokens > 0) {
      log(`validation skipped (needs ≥ ${B} held-out tokens)`);
    }
    const validate = async (s: number) => {
      if (!valBatches.length) return {};
      const acc = { val_mse: 0, val_explained_variance: 0, val_l0: 0 };
      for (const vb of valBatches) {
        const m = await trainer.evaluate(vb.x, hyper(s), vb.y);
        acc.val_mse += m.mse / valBatches.length;
        acc.val_explained_variance += m.explained_variance / valBatches.length;
        acc.val_l0 += m.l0 / valBatches.length;
      }
      return acc;
    };
    const stop = (s: number, what: string): never => {
      throw new Error(
        `train: ${what} at step ${
          s + 1
        }; stopped (the last good checkpoint, if any, stays in ${io.scratchDir}); lower lr or set clip_grad_norm`,
      );
    };
    const checkFinite = (m: Metrics, s: number) => {
      if (!Number.isFinite(m.loss) || !Number.isFinite(m.mse)) stop(s, `loss became ${m.loss}`);
    };
    const checkpoint = async (s: number) => {
      checkFinite(await trainer.metrics(), s);
      // Streamed tensor by tensor (a wide SAE's snapshot is never whole on the host).
      const snap = trainer.snapshotStream();
      const names = new Set<string>(PARAM_NAMES);
      async function* checked() {
        let i = 0;
        for await (const a of snap.data) {
          const name = snap.specs[i++].name;
          // The step's loss predates its update: an overflowing update shows only in the parameters.
          if (names.has(name) && !a.every(Number.isFinite)) stop(s, `${name} became non-finite`);
          yield a;
        }
        yield Uint32Array.of(resampled);
      }
      const specs = [...snap.specs, { name: "resampled_pending", dtype: "U32" as const, shape: [1] }];
      await saveCheckpoint(io.scratchDir, fingerprint, { step: s + 1, specs, data: checked(), log: rows });
    };
    const t0 = performance.now();
    // the reporter's rate counts from its first report: make that the resume point, not a mid-run count
    if (start > 0) io.progress?.(start * B, steps * B, `resumed at step ${start}`);
    let last: Metrics | null = null;
    let next = start < steps ? stream.next() : null;
    for (let s = start; s < steps; s++) {
      const { x, y } = await next!;
      trainer.step(x, hyper(s), y);
      next = s + 1 < steps ? stream.next() : null; // the host reads ahead while the GPU works
      const isLast = s === steps - 1;
      if (p.resample_every > 0 && (s + 1) % p.resample_every === 0 && !isLast) {
        resampled += await trainer.resample(p.seed, s + 1);
      }
      const ckDue = p.checkpoint_every > 0 && (s + 1) % p.checkpoint_every === 0 && !isLast;
      if ((s + 1) % p.log_every === 0 || isLast || ckDue) {
        const m = await trainer.metrics();
        checkFinite(m, s);
        last = m;
        const row: Record<string, number | null> = {
          step: s + 1,
          tokens: (s + 1) * B,
          lr: hyper(s).lr,
          loss: m.loss,
          mse: m.mse,
          explained_variance: m.explained_variance,
          l0: m.l0,
          l1: m.l1,
          dead_latents: m.dead_latents,
          aux_loss: m.aux_loss,
          resampled_latents: resampled,
        };
        resampled = 0;
        if (ckDue || isLast) Object.assign(row, await validate(s));
        rows.push(row);
        io.progress?.(
          (s + 1) * B,
          steps * B,
          `loss ${m.loss.toPrecision(4)} L0 ${m.l0.toFixed(1)} dead ${m.dead_latents}`,
        );
      }
      if (ckDue) await checkpoint(s);
      if (io.signal?.aborted || (io.stopAfterSteps !== undefined && s + 1 >= io.stopAfterSteps && !isLast)) {
        await checkpoint(s);
        throw new TrainInterrupted(s + 1);
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    const params = await trainer.params();
    const bad = PARAM_NAMES.find((n) => !params[n]?.every(Number.isFinite));
    if (bad) stop(steps - 1, `${bad} became non-finite`);
    const thresholdEma = (await trainer.thresholdEma()) / (1 - p.threshold_decay ** steps);
    trainer.destroy(); // device memory freed before the host folds and writes the weights (again in finally: a no-op)
    const folded = foldWeights(params, p.architecture, scale, thresholdEma, target?.scale);
    const tensors = folded.tensors;
    const architecture = target ? transcoderArchitecture(p.architecture, p.skip_transcoder) : folded.architecture;
    await writeSafetensors(join(io.outDir, "sae_weights.safetensors"), tensors);
    const saeCfg = {
      architecture,
      d_in: D,
      d_sae: S,
      dtype: "float32",
      device: "cpu",
      model_name: meta.model_name,
      hook_name: meta.hook_name,
      hook_layer: meta.hook_layer,
      hook_head_index: null,
      ...(target ? transcoderCfgFields(target.meta) : {}),
      context_size: meta.context_size,
      prepend_bos: meta.prepend_bos,
      normalize_activations: "none",
      dataset_path: meta.dataset_path,
      apply_b_dec_to_input: !target, // a transcoder's b_dec is on the output side (SAELens Transcoder)
      finetuning_scaling_factor: false,
      sae_lens_training_version: null,
      ...(p.architecture === "topk" ? { k: p.k } : {}),
      metadata: {
        training_architecture: p.architecture,
        k: p.k,
        training_tokens: steps * B,
        activation_scaling_factor: scale,
        ...(target ? { activation_scaling_factor_out: target.scale } : {}),
        normalize_activations_in_training: p.normalize_activations,
        seed: p.seed,
        ...(matryoshkaWidths ? { matryoshka_widths: matryoshkaWidths } : {}),
      },
    };
    await Deno.writeTextFile(join(io.outDir, "cfg.json"), JSON.stringify(saeCfg, null, 2) + "\n");
    await writeParquet(join(io.outDir, "train_log.parquet"), LOG_SCHEMA, rows);
    const final = rows[rows.length - 1] ?? {};
    const summary = {
      architecture: p.architecture,
      d_in: D,
      d_sae: S,
      k: p.k,
      steps,
      tokens: steps * B,
      resumed_from_step: start,
      seconds,
      resampled_latents: rows.reduce((n, r) => n + (r.resampled_latents ?? 0), 0),
      tokens_per_second: ((steps - start) * B) / Math.max(seconds, 1e-9),
      final: { ...final, ...(last ? { loss: last.loss } : {}) },
    };
    await Deno.writeTextFile(join(io.outDir, "train_summary.json"), JSON.stringify(summary, null, 2) + "\n");
    return summary;
  } finally {
    trainer.destroy();
  }
}

/**
 * Fold the training-time input scale s into the weights (SAELens fold_activation_norm_scaling_factor):
 * W_enc·s, W_dec/s, b_dec/s, so (x − b_dec)·W_enc in raw space equals the scaled-space pre-activation
 * and the decode returns raw activations. Thresholds act on pre-activations: unchanged.
 * A transcoder's output has its own scale s_out (x·s in, y·s_out out: ŷ_raw = ŷ_scaled / s_out):
 * W_enc·s, W_dec/s_out, b_dec/s_out, W_skip·s/s_out, and W_skip saved as SAELens stores it, [d_out, d_in].
 * BatchTopK (and Matryoshka BatchTopK) is saved as a JumpReLU SAE with the averaged threshold (SAELens does the same).
 * Gated is saved in SAELens' gated layout: W_enc, W_dec, b_dec, b_gate (the trainer's b_enc), b_mag,
 * r_mag — the gate and magnitude biases act on pre-activations, so they are unchanged too.
 */
/**
 * The weights as saved, in the data's scale (a transcoder's output side in the target's, sOut); `p`'s W_enc
 * and W_dec are folded in place (no second host copy).
 */
export function foldWeights(p: SaeParams, arch: string, s: number, thresholdEma: number, sOut = s) {
  const W_enc = p.W_enc;
  const W_dec = p.W_dec;
  if (s !== 1) { for (let j = 0; j < W_enc.length; j++) W_enc[j] *= s; }
  if (sOut !== 1) { for (let j = 0; j < W_dec.length; j++) W_dec[j] /= sOut; }
  const b_dec = p.b_dec.map((v) => v / sOut);
  const O = b_dec.length;
  const S = p.b_enc.length;
  const D = W_enc.length / S;
  const tensors: Record<string, ReturnType<typeof f32>> = {
    W_enc: f32([D, S], W_enc),
    W_dec: f32([S, O], W_dec),
    b_dec: f32([O], b_dec),
  };
  if (p.W_skip && p.W_skip.length === D * O) {
    const t = new Float32Array(O * D); // trainer [d_in, d_out] → SAELens [d_out, d_in]
    for (let d = 0; d < D; d++) for (let o = 0; o < O; o++) t[o * D + d] = p.W_skip[d * O + o] * s / sOut;
    tensors.W_skip = f32([O, D], t);
  }
  if (arch === "gated") {
    tensors.b_gate = f32([S], p.b_enc.slice());
    tensors.b_mag = f32([S], p.b_mag.slice());
    tensors.r_mag = f32([S], p.r_mag.slice());
  } else tensors.b_enc = f32([S], p.b_enc.slice());
  if (arch === "jumprelu") tensors.threshold = f32([S], p.log_threshold.map(Math.exp));
  const batchTopk = arch === "batchtopk" || arch === "matryoshka_batchtopk";
  if (batchTopk) tensors.threshold = f32([S], new Float32Array(S).fill(thresholdEma));
  return { tensors, architecture: batchTopk ? "jumprelu" : arch };
}

/** Matryoshka prefix widths: the configured ones (d_sae appended when missing, as SAELens) or the default. */
function resolveWidths(p: TrainParams, S: number): number[] {
  const given = p.matryoshka_widths;
  if (given !== null && !Array.isArray(given)) throw new Error(`train: matryoshka_widths must be a list of integers`);
  const w = given ? [...given] : [Math.ceil(S / 16), Math.ceil(S / 4)].map((v) => Math.max(v, p.k));
  if (w[w.length - 1] !== S) w.push(S);
  const widths = given ? w : [...new Set(w)].sort((a, b) => a - b);
  checkMatryoshkaWidths(widths, p.k, S);
  return widths;
}
