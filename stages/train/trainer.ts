/**
 * The SAE trainer on WebGPU. Weights, Adam moments and every intermediate live on the device; a step
 * uploads one activation batch and the step's hyper-parameters, records all kernels into one command
 * buffer and submits it without waiting. The host reads the 8 metrics only when it asks.
 *
 * TopK family (topk, batchtopk), sparse path — only active latents carry gradient:
 *   xc = x − b_dec;  pre = xc·W_enc + b_enc (dense GEMM);  TopK per row (BatchTopK: per-row top
 *   `cap` candidates, then the top k·B of the batch);  x̂ = b_dec + Σ val·W_dec[idx] (sparse decode);
 *   L = mean_t ‖x − x̂‖² + aux_coef·min(n_dead/aux_k, 1)·mean_t ‖ê − (x − x̂)‖²  (AuxK, ê from the
 *   top aux_k dead latents, no bias);  g_e = dvec_t·W_dec[i];  per-latent lists → gW_dec, gW_enc,
 *   gb_enc touching k rows per token;  gb_dec = Σ dvec − W_enc·gb_enc.
 * standard / jumprelu, dense path: z = ReLU(pre) or JumpReLU; x̂ = z·W_dec + b_dec and the backward
 *   through dense GEMMs; penalty l1·Σ z_i‖W_dec_i‖ (standard) or l0·Σ H(pre − θ) (jumprelu, STE).
 * Other architectures build their step in their own module from the trainer's buffers (a StepContext,
 *   ./step_context.ts): gated in ./arch_gated.ts.
 * Then: drop the gradient parallel to decoder rows, clip by global norm, Adam, renormalise rows.
 */
import { createEncoderGemm, createGemm } from "../../kernels/gemm/mod.ts";
import {
  type BoundKernel,
  createBuffer,
  createRowTexture,
  HYPER_WORDS,
  hyperArray,
  readBuffers,
  readF32,
  type RowTexture,
  rowTexturesAvailable,
  STATE,
  STATE_WORDS,
  writeBuffer,
} from "../../kernels/runtime/mod.ts";
import { createBdecGrad, createCenter, createDenseAct } from "../../kernels/dense/mod.ts";
import { createBatchTopk, createCsc, createTopk } from "../../kernels/select/mod.ts";
import { createLatentGrad, createSparseDecode, createSparseGrad, dvecRows } from "../../kernels/sparse/mod.ts";
import { createMetrics, createReconLoss, METRIC_NAMES } from "../../kernels/loss/mod.ts";
import {
  createAdam,
  createDecoderAdam,
  createDecoderNorm,
  createGradNorm,
  createTie,
} from "../../kernels/optim/mod.ts";
import type { BuiltStep, StepContext } from "./step_context.ts";
import { buildGated } from "./arch_gated.ts";
import { buildTranscoder, checkTranscoder } from "./arch_transcoder.ts";
import { Resampler } from "./resample.ts";
import { checkMatryoshkaWidths, matryoshkaKernels, matryoshkaLevels } from "./arch_matryoshka.ts";

export type Architecture = "topk" | "batchtopk" | "standard" | "jumprelu" | "gated" | "matryoshka_batchtopk";

export interface TrainerConfig {
  architecture: Architecture;
  d_in: number;
  d_sae: number;
  k: number;
  /** Tokens per step. */
  batch: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Max global gradient norm; 0 turns clipping off. */
  clipGradNorm: number;
  /** Keep decoder rows unit norm (and drop the gradient parallel to them). */
  normalizeDecoder: boolean;
  /** Tokens without firing after which a latent counts as dead. */
  deadWindow: number;
  /** AuxK latents per token (TopK family); 0 turns AuxK off. */
  auxK: number;
  /** JumpReLU STE bandwidth ε. */
  bandwidth: number;
  /** BatchTopK candidates kept per row, as a multiple of k. */
  batchTopkCap: number;
  /** BatchTopK threshold moving-average decay. */
  thresholdDecay: number;
  /** Gated: the auxiliary gate-path reconstruction sends no gradient into W_dec, b_dec (paper); default false (SAELens). */
  gatedFrozenDecoder?: boolean;
  /** W_enc = W_decᵀ, one trained matrix (not for gated). */
  tiedWeights?: boolean;
  /** matryoshka_batchtopk: the nested prefix widths (ascending; d_sae implied as the last). */
  matryoshkaWidths?: number[];
  /** Transcoder (standard, jumprelu): reconstruct a target y [batch, d_out] from x instead of x. */
  d_out?: number;
  /** Skip transcoder: ŷ also gets x·W_skip. */
  skip?: boolean;
}

/** Host copies of the parameters (the trainer's scaled activation space). */
export interface SaeParams {
  W_enc: Float32Array;
  W_dec: Float32Array;
  b_enc: Float32Array;
  b_dec: Float32Array;
  log_threshold: Float32Array;
  /** Gated: the magnitude path's per-latent log scale of W_enc (b_enc is the gate bias b_gate). */
  r_mag: Float32Array;
  /** Gated: the magnitude path's bias. */
  b_mag: Float32Array;
  /** Skip transcoder: x·W_skip joins the output ([d_in, d_out]); absent otherwise. */
  W_skip?: Float32Array;
}

/** Per-step values written by the host. */
export interface StepHyper {
  lr: number;
  /** Adam step count t (1-based) for bias correction. */
  t: number;
  /** l1 (standard, gated) or l0 (jumprelu) coefficient after warmup; matryoshka_batchtopk: the inner levels' weight, 1. */
  sparsityCoef: number;
  auxCoef: number;
}

export type Metrics = Record<(typeof METRIC_NAMES)[number], number>;

export const PARAM_NAMES = ["W_enc", "W_dec", "b_enc", "b_dec", "log_threshold", "r_mag", "b_mag", "W_skip"] as const;
export type ParamName = (typeof PARAM_NAMES)[number];

/** Floats in each parameter buffer (W_skip: 1 unused float unless a skip transcoder). */
export function paramSizes(c: Pick<TrainerConfig, "d_in" | "d_sae" | "d_out" | "skip">): Record<ParamName, number> {
  const { d_in: D, d_sae: S } = c;
  const O = c.d_out ?? D;
  return {
    W_enc: D * S,
    W_dec: S * O,
    b_enc: S,
    b_dec: O,
    log_threshold: S,
    r_mag: S,
    b_mag: S,
    W_skip: c.skip ? D * O : 1,
  };
}

export function isSparse(a: Architecture): boolean {
  return a === "topk" || isBatchTopk(a);
}

/** BatchTopK selection: batchtopk and matryoshka_batchtopk. */
export function isBatchTopk(a: Architecture): boolean {
  return a === "batchtopk" || a === "matryoshka_batchtopk";
}

/** Check a config against itself and the device; one-line errors. */
export function checkConfig(c: TrainerConfig, device: GPUDevice): void {
  if (c.d_out !== undefined) checkTranscoder(c);
  if (c.tiedWeights && c.architecture === "gated") {
    throw new Error(
      "train: tied_weights is not supported for gated (W_enc also feeds the magnitude path via r_mag; tying it to the decoder is not the gated SAE)",
    );
  }
  if (c.architecture === "matryoshka_batchtopk") checkMatryoshkaWidths(c.matryoshkaWidths ?? [c.d_sae], c.k, c.d_sae);
  if (c.k < 1 || c.k > c.d_sae) throw new Error(`train: k = ${c.k} must be between 1 and d_sae (${c.d_sae})`);
  if (c.batch < 1 || c.batch > device.limits.maxComputeWorkgroupsPerDimension) {
    throw new Error(`train: batch_size ${c.batch} must be in 1..${device.limits.maxComputeWorkgroupsPerDimension}`);
  }
  if (c.d_in > device.limits.maxComputeWorkgroupsPerDimension) throw new Error(`train: d_in ${c.d_in} is too large`);
  const max = device.limits.maxStorageBufferBindingSize;
  const big = c.batch * c.d_sae * 4;
  if (big > max || c.d_in * c.d_sae * 4 > max) {
    throw new Error(
      `train: batch_size × d_sae (${c.batch} × ${c.d_sae} f32 = ${
        (big / 2 ** 20).toFixed(0)
      } MiB) or d_in × d_sae exceeds maxStorageBufferBindingSize (${max / 2 ** 20} MiB); lower batch_size or d_sae`,
    );
  }
}

export class GpuTrainer {
  readonly cap: number;
  readonly auxCap: number;
  #steps: BoundKernel[] = [];
  #forward: BoundKernel[] = [];
  #x: GPUBuffer;
  #y: GPUBuffer;
  #hyper: GPUBuffer;
  #metrics: GPUBuffer;
  #valMetrics: GPUBuffer;
  #params: Record<ParamName, GPUBuffer>;
  #m: Record<ParamName, GPUBuffer>;
  #v: Record<ParamName, GPUBuffer>;
  #since: GPUBuffer;
  #state: GPUBuffer;
  #all: GPUBuffer[] = [];
  #textures: RowTexture[] = [];
  #grads: Partial<Record<ParamName, GPUBuffer>> = {};
  #rowstats?: GPUBuffer;
  #retie?: BoundKernel;
  #resampler?: Resampler;

  private constructor(readonly device: GPUDevice, readonly cfg: TrainerConfig) {
    const { batch: B, d_in: D, d_sae: S } = cfg;
    this.cap = isBatchTopk(cfg.architecture) ? Math.min(S, Math.ceil(cfg.k * cfg.batchTopkCap)) : cfg.k;
    this.auxCap = isSparse(cfg.architecture) ? Math.min(cfg.auxK, S) : 0;
    const buf = (n: number, label: string) => {
      const b = createBuffer(device, n * 4, label);
      this.#all.push(b);
      return b;
    };
    this.#x = buf(B * D, "x");
    this.#y = buf(cfg.d_out !== undefined ? B * cfg.d_out : 1, "y (transcoder target)");
    this.#hyper = buf(HYPER_WORDS, "hyper");
    this.#metrics = buf(METRIC_NAMES.length, "metrics");
    this.#valMetrics = buf(METRIC_NAMES.length, "val metrics");
    const sizes = paramSizes(cfg);
    const make = (prefix: string) =>
      Object.fromEntries(PARAM_NAMES.map((n) => [n, buf(sizes[n], `${prefix}${n}`)])) as Record<ParamName, GPUBuffer>;
    this.#params = make("");
    this.#m = make("m_");
    this.#v = make("v_");
    this.#since = buf(S, "since");
    this.#state = buf(STATE_WORDS, "state");
  }

  /** Build buffers and pipelines, upload the initial parameters. */
  static async create(device: GPUDevice, cfg: TrainerConfig, init: SaeParams): Promise<GpuTrainer> {
    checkConfig(cfg, device);
    const t = new GpuTrainer(device, cfg);
    t.setParams(init);
    t.#resetOptimizer();
    if (cfg.d_out !== undefined) t.#adopt(await buildTranscoder(t.#context()));
    else if (cfg.architecture === "gated") t.#adopt(await buildGated(t.#context()));
    else await (isSparse(cfg.architecture) ? t.#buildSparse() : t.#buildDense());
    return t;
  }

  /** What an architecture module (./step_context.ts) builds its step from. */
  #context(): StepContext {
    return {
      device: this.device,
      cfg: this.cfg,
      params: this.#params,
      x: this.#x,
      y: this.#y,
      hyper: this.#hyper,
      since: this.#since,
      state: this.#state,
      buf: (n, label) => this.#buf(n, label),
      encoder: (pre, xc) => this.#common(pre, xc),
      optimizer: (grads, rowstats, o) => this.#optimizer(grads, rowstats, o.penalty, o.gateAux),
    };
  }

  #adopt(b: BuiltStep): void {
    this.#steps = b.steps;
    this.#forward = b.forward;
    this.#grads = b.grads;
  }

  /** A row texture mirroring `src` and the step's kernel that refreshes it. */
  #tex(rows: number, cols: number, label: string, src: GPUBuffer): { texture: RowTexture; copy: BoundKernel } {
    const texture = createRowTexture(this.device, rows, cols, label);
    this.#textures.push(texture);
    return { texture, copy: { label: `copy ${label}`, encode: (e) => texture.encodeCopy(e, src) } };
  }

  #buf(n: number, label: string): GPUBuffer {
    const b = createBuffer(this.device, n * 4, label);
    this.#all.push(b);
    return b;
  }

  #resetOptimizer(): void {
    const state = new Float32Array(STATE_WORDS);
    state[STATE.CLIP] = 1; // until clipping writes one
    writeBuffer(this.device, this.#state, state);
  }

  async #common(pre: GPUBuffer, xc: GPUBuffer) {
    const { device, cfg } = this;
    const { batch: B, d_in: D, d_sae: S } = cfg;
    const center = (await createCenter(device, { B, D }))({ x: this.#x, b_dec: this.#params.b_dec, xc });
    const enc = createEncoderGemm(device, { M: B, K: D, N: S });
    const encoder: BoundKernel = {
      encode: (e) => enc.encode(e, { x: xc, W: this.#params.W_enc, bias: this.#params.b_enc, out: pre }),
    };
    return { center, encoder };
  }

  /**
   * The encoder GEMM with x − b_dec packed by the GEMM (its A texture = xc rows) and pre written into a
   * row texture; undefined unless the GEMM takes the texture path and both row textures exist.
   */
  #fusedEncoder(): { center: undefined; encoder: BoundKernel; xcTex: RowTexture; preTex: RowTexture } | undefined {
    const { device, cfg } = this;
    const { batch: B, d_in: D, d_sae: S } = cfg;
    if (!rowTexturesAvailable(device, D) || !rowTexturesAvailable(device, S)) return undefined;
    const preTex = createRowTexture(device, B, S, "pre rows");
    let enc;
    try {
      enc = createEncoderGemm(device, { M: B, K: D, N: S }, { subtractInput: true, outTexture: preTex });
    } catch {
      preTex.destroy(); // the texture path does not fit this shape
      return undefined;
    }
    if (!enc.packedA) {
      enc.destroy();
      preTex.destroy();
      return undefined;
    }
    this.#textures.push(preTex);
    const encoder: BoundKernel = {
      label: "encoder gemm (fused center, pre rows)",
      encode: (e) =>
        enc.encode(e, { x: this.#x, W: this.#params.W_enc, bias: this.#params.b_enc, sub: this.#params.b_dec }),
    };
    return { center: undefined, encoder, xcTex: enc.packedA, preTex };
  }

  /** Gradient-norm clip, Adam on each trained parameter, decoder renormalisation, metrics. */
  async #optimizer(
    grads: Partial<Record<ParamName, GPUBuffer>>,
    rowstats: GPUBuffer,
    penalty: boolean,
    gateAux = false,
  ) {
    const { device, cfg } = this;
    // Tied weights: one matrix (W_dec) trains on gW_dec + gW_encᵀ; W_enc is rewritten as W_decᵀ after it.
    const tie = cfg.tiedWeights
      ? (await createTie(device, { D: cfg.d_in, S: cfg.d_sae }))({
        gW_enc: grads.W_enc!,
        gW_dec: grads.W_dec!,
        W_dec: this.#params.W_dec,
        W_enc: this.#params.W_enc,
      })
      : undefined;
    this.#retie = tie?.transpose;
    const names = PARAM_NAMES.filter((n) => grads[n] && !(tie && n === "W_enc"));
    this.#rowstats = rowstats; // the step's per-row losses, for resampling
    const out: BoundKernel[] = [];
    if (cfg.clipGradNorm > 0) {
      const clip = await createGradNorm(device, {
        sizes: names.map((n) => grads[n]!.size / 4),
        maxNorm: cfg.clipGradNorm,
      });
      out.push(clip({ grads: names.map((n) => grads[n]!), state: this.#state }));
    }
    // W_dec: Adam fused with the row projection (when no clip needs the projected gradient first) and
    // the renormalisation, one pass over the decoder (kernels/optim/decoder_adam.wgsl).
    const fuseProject = cfg.normalizeDecoder && !(cfg.clipGradNorm > 0);
    for (const n of names) {
      const bufs = { hyper: this.#hyper, state: this.#state, m: this.#m[n], v: this.#v[n] };
      if (n === "W_dec") {
        const dims = { D: cfg.d_out ?? cfg.d_in, S: cfg.d_sae, project: fuseProject, normalize: cfg.normalizeDecoder };
        out.push((await createDecoderAdam(device, dims))({ ...bufs, gW_dec: grads[n]!, W_dec: this.#params[n] }));
        continue;
      }
      const adam = await createAdam(device, { n: grads[n]!.size / 4 });
      out.push(adam({ ...bufs, grad: grads[n]!, param: this.#params[n] }));
    }
    if (tie) out.push(tie.transpose);
    const dn = (await createDecoderNorm(device, { D: cfg.d_out ?? cfg.d_in, S: cfg.d_sae }))({
      W_dec: this.#params.W_dec,
      gW_dec: grads.W_dec!,
    });
    const aux = this.auxCap > 0;
    const metricsDims = {
      B: cfg.batch,
      D: cfg.d_out ?? cfg.d_in, // the reconstructed side (a transcoder's target)
      S: cfg.d_sae,
      window: cfg.deadWindow,
      auxK: cfg.auxK,
      penalty,
      aux: aux && !gateAux,
      gateAux,
    };
    const target = cfg.d_out !== undefined ? this.#y : this.#x;
    const bufs = { rowstats, x: target, since: this.#since, hyper: this.#hyper, state: this.#state };
    out.push((await createMetrics(device, metricsDims))({ ...bufs, metrics: this.#metrics }));
    const val = (await createMetrics(device, { ...metricsDims, aux: false, gateAux: false, dead: false }))({
      ...bufs,
      metrics: this.#valMetrics,
    });
    const project = cfg.normalizeDecoder && !fuseProject ? dn.project : undefined;
    if (!tie) return { out, project, val };
    // the tied gradient is formed before the projection and the clip read it
    const add = tie.addTransposed;
    if (!project) return { out: [add, ...out], project, val };
    const tiedProject: BoundKernel = { label: "tie + project", encode: (e) => (add.encode(e), project.encode(e)) };
    return { out, project: tiedProject, val };
  }

  async #buildSparse(): Promise<void> {
    const { device, cfg, cap, auxCap } = this;
    const { batch: B, d_in: D, d_sae: S } = cfg;
    const NE = B * cap + B * auxCap;
    const levels = matryoshkaLevels(cfg, auxCap); // Matryoshka: one gradient block of B rows per inner level
    const nDvec = dvecRows({ B, auxCap, levels });
    const idx = this.#buf(NE, "idx");
    const val = this.#buf(NE, "val");
    const g = this.#buf(NE, "entry grad");
    const list = this.#buf(NE, "latent lists");
    const start = this.#buf(S + 1, "latent starts");
    const xhat = this.#buf(B * D, "xhat");
    const ehat = auxCap ? this.#buf(B * D, "aux ehat") : xhat;
    const dvec = this.#buf(nDvec * D, "dvec");
    const rowstats = this.#buf(B * 8, "rowstats");
    const grads = {
      W_enc: this.#buf(D * S, "gW_enc"),
      W_dec: this.#buf(S * D, "gW_dec"),
      b_enc: this.#buf(S, "gb_enc"),
      b_dec: this.#buf(D, "gb_dec"),
    };
    // Row textures (fast texel gathers, kernels/runtime/row_texture.ts), refreshed once per step and shared.
    // Fused when the encoder GEMM runs on textures: it packs xc = x − b_dec into its A texture (read
    // as the xc rows) and writes pre straight into the pre rows, so neither center nor copies run.
    const fused = this.#fusedEncoder();
    const pre = fused ? this.#buf(4, "pre (in texture)") : this.#buf(B * S, "pre");
    const xc = fused ? this.#buf(4, "xc (in texture)") : this.#buf(B * D, "xc");
    const { center, encoder } = fused ?? await this.#common(pre, xc);
    const tex = rowTexturesAvailable(device, D)
      ? {
        W_dec: this.#tex(S, D, "W_dec rows", this.#params.W_dec),
        dvec: this.#tex(nDvec, D, "dvec rows", dvec),
        xc: fused ? { texture: fused.xcTex, copy: undefined } : this.#tex(B, D, "xc rows", xc),
      }
      : undefined;
    const preTex = fused
      ? { texture: fused.preTex, copy: undefined }
      : rowTexturesAvailable(device, S)
      ? this.#tex(B, S, "pre rows", pre)
      : undefined;
    const sel = (await createTopk(device, { rows: B, S, k: cap, cap }))({
      pre,
      since: this.#since,
      state: this.#state,
      idx,
      val,
      preTex: preTex?.texture,
    });
    const fwd: BoundKernel[] = center ? [center, encoder] : [encoder];
    if (preTex?.copy) fwd.push(preTex.copy);
    fwd.push(sel);
    const step: BoundKernel[] = [...fwd];
    if (tex) {
      fwd.push(tex.W_dec.copy);
      step.push(tex.W_dec.copy);
      if (tex.xc.copy) step.push(tex.xc.copy);
    }
    if (isBatchTopk(cfg.architecture)) {
      const bt = (await createBatchTopk(device, { n: B * cap, kTotal: cfg.k * B, emaDecay: cfg.thresholdDecay }))({
        idx,
        val,
        state: this.#state,
      });
      fwd.push(bt.select);
      step.push(bt.select, bt.ema);
    }
    const dec = (await createSparseDecode(device, { rows: B, D, cap }))({
      idx,
      val,
      W_dec: this.#params.W_dec,
      b_dec: this.#params.b_dec,
      out: xhat,
      rowstats,
      W_decTex: tex?.W_dec.texture,
    });
    // the main and the AuxK reconstruction losses read and write the same buffers
    const lossBuffers = { x: this.#x, xhat, ehat, state: this.#state, hyper: this.#hyper, dvec, rowstats };
    const loss = (await createReconLoss(device, { B, D }))(lossBuffers);
    fwd.push(dec, loss);
    step.push(dec, loss);
    if (levels) {
      const b = { idx, val, W_dec: this.#params.W_dec, b_dec: this.#params.b_dec, dvec, rowstats };
      const inner = await matryoshkaKernels(this.#context(), b, levels, cap, tex?.W_dec.texture);
      fwd.push(...inner);
      step.push(...inner);
    }
    if (auxCap) {
      const auxSel = (await createTopk(device, {
        rows: B,
        S,
        k: auxCap,
        outBase: B * cap,
        aux: true,
        window: cfg.deadWindow,
      }))({ pre, since: this.#since, state: this.#state, idx, val, preTex: preTex?.texture });
      const auxDec = (await createSparseDecode(device, {
        rows: B,
        D,
        cap: auxCap,
        entryBase: B * cap,
        bias: false,
        stats: false,
        auxBound: true,
      }))({
        idx,
        val,
        W_dec: this.#params.W_dec,
        b_dec: this.#params.b_dec,
        out: ehat,
        rowstats,
        state: this.#state,
        W_decTex: tex?.W_dec.texture,
      });
      const auxLoss = (await createReconLoss(device, { B, D, aux: true, auxK: cfg.auxK }))(lossBuffers);
      step.push(auxSel, auxDec, auxLoss);
    }
    if (tex) step.push(tex.dvec.copy);
    const sg = (await createSparseGrad(device, { B, D, cap, auxCap, auxBound: true, levels }))({
      idx,
      dvec,
      W_dec: this.#params.W_dec,
      g,
      state: this.#state,
      dvecTex: tex?.dvec.texture,
      W_decTex: tex?.W_dec.texture,
    });
    const csc = (await createCsc(device, { B, S, cap, auxCap, auxBound: true }))({
      idx,
      start,
      list,
      state: this.#state,
    });
    const lg = (await createLatentGrad(device, { B, D, S, cap, auxCap, levels }))({
      list,
      start,
      val,
      g,
      dvec,
      xc,
      gW_dec: grads.W_dec,
      gW_enc: grads.W_enc,
      gb_enc: grads.b_enc,
      since: this.#since,
      dvecTex: tex?.dvec.texture,
      xcTex: tex?.xc.texture,
    });
    // b_dec is in every level's reconstruction: D_0 (the first inner block) sums all their gradients
    const bd = (await createBdecGrad(device, { B, D, S, row0: levels ? levels.innerBase * B : 0 }))({
      dvec,
      W_enc: this.#params.W_enc,
      gb_enc: grads.b_enc,
      gb_dec: grads.b_dec,
    });
    step.push(sg, csc, lg, bd);
    this.#grads = grads;
    const opt = await this.#optimizer(grads, rowstats, !!levels); // the inner levels' loss: the penalty slot
    if (opt.project) step.push(opt.project);
    step.push(...opt.out);
    fwd.push(opt.val);
    this.#steps = step;
    this.#forward = fwd;
  }

  async #buildDense(): Promise<void> {
    const { device, cfg } = this;
    const { batch: B, d_in: D, d_sae: S } = cfg;
    const jump = cfg.architecture === "jumprelu";
    const pre = this.#buf(B * S, "pre");
    const z = this.#buf(B * S, "z");
    const dz = this.#buf(B * S, "dz");
    const xc = this.#buf(B * D, "xc");
    const xhat = this.#buf(B * D, "xhat");
    const dvec = this.#buf(B * D, "dvec");
    const rowstats = this.#buf(B * 8, "rowstats");
    const wnorm = this.#buf(S, "wnorm");
    const zsum = this.#buf(S, "zsum");
    const grads: Partial<Record<ParamName, GPUBuffer>> = {
      W_enc: this.#buf(D * S, "gW_enc"),
      W_dec: this.#buf(S * D, "gW_dec"),
      b_enc: this.#buf(S, "gb_enc"),
      b_dec: this.#buf(D, "gb_dec"),
    };
    const glog = this.#buf(S, "glog");
    if (jump) grads.log_threshold = glog;
    const { center, encoder } = await this.#common(pre, xc);
    const dn = (await createDecoderNorm(device, { D, S, B }))({
      W_dec: this.#params.W_dec,
      gW_dec: grads.W_dec!,
      wnorm,
      zsum,
      hyper: this.#hyper,
    });
    const act = (await createDenseAct(device, { B, S, jump, bandwidth: cfg.bandwidth }))({
      pre,
      z,
      dz,
      log_thr: this.#params.log_threshold,
      wnorm,
      hyper: this.#hyper,
      gb_enc: grads.b_enc!,
      zsum,
      glog,
      since: this.#since,
      rowstats,
    });
    const decode = createGemm(device, { M: B, K: S, N: D, bias: true });
    const dec: BoundKernel = {
      encode: (e) => decode.encode(e, { a: z, b: this.#params.W_dec, bias: this.#params.b_dec, out: xhat }),
    };
    const loss = (await createReconLoss(device, { B, D }))({
      x: this.#x,
      xhat,
      ehat: xhat,
      state: this.#state,
      hyper: this.#hyper,
      dvec,
      rowstats,
    });
    const dzGemm = createGemm(device, { M: B, K: D, N: S, transB: true });
    const gDecGemm = createGemm(device, { M: S, K: B, N: D, transA: true });
    const gEncGemm = createGemm(device, { M: D, K: B, N: S, transA: true });
    const bd = (await createBdecGrad(device, { B, D, S }))({
      dvec,
      W_enc: this.#params.W_enc,
      gb_enc: grads.b_enc!,
      gb_dec: grads.b_dec!,
    });
    const fwd: BoundKernel[] = [center, encoder, dn.norms, act.forward, dec, loss];
    const step: BoundKernel[] = [...fwd];
    step.push(
      { encode: (e) => dzGemm.encode(e, { a: dvec, b: this.#params.W_dec, out: dz }) },
      { encode: (e) => gDecGemm.encode(e, { a: z, b: dvec, out: grads.W_dec! }) },
      act.stats,
      act.backward,
      { encode: (e) => gEncGemm.encode(e, { a: xc, b: dz, out: grads.W_enc! }) },
      bd,
    );
    if (!jump && dn.l1Grad) step.push(dn.l1Grad);
    this.#grads = grads;
    const opt = await this.#optimizer(grads, rowstats, true);
    if (opt.project) step.push(opt.project);
    step.push(...opt.out);
    fwd.push(opt.val);
    this.#steps = step;
    this.#forward = fwd;
  }

  #writeHyper(h: StepHyper): void {
    const { beta1: b1, beta2: b2, eps } = this.cfg;
    writeBuffer(
      this.device,
      this.#hyper,
      hyperArray({
        LR: h.lr,
        BETA1: b1,
        BETA2: b2,
        EPS: eps,
        BC1: 1 - b1 ** h.t,
        BC2: 1 - b2 ** h.t,
        SPARSITY_COEF: h.sparsityCoef,
        AUX_COEF: h.auxCoef,
      }),
    );
  }

  #upload(x: Float32Array, y?: Float32Array): void {
    const { batch: B, d_in: D, d_out: O } = this.cfg;
    if (x.length !== B * D) throw new Error(`train: batch has ${x.length} values, expected ${B} × ${D}`);
    writeBuffer(this.device, this.#x, x);
    if (O === undefined) return;
    if (y?.length !== B * O) {
      throw new Error(`train: the transcoder target has ${y?.length ?? 0} values, expected ${B} × ${O}`);
    }
    writeBuffer(this.device, this.#y, y);
  }

  /** Record and submit one training step on batch x [batch, d_in] (transcoder: and its target y); does not wait. */
  step(x: Float32Array, h: StepHyper, y?: Float32Array): void {
    this.#upload(x, y);
    this.#writeHyper(h);
    const enc = this.device.createCommandEncoder();
    for (const k of this.#steps) k.encode(enc);
    this.device.queue.submit([enc.finish()]);
  }

  /** One step with a wait after each kernel: milliseconds per kernel position (for benches). */
  async profile(x: Float32Array, h: StepHyper): Promise<number[]> {
    this.#upload(x);
    this.#writeHyper(h);
    await this.device.queue.onSubmittedWorkDone();
    const times: number[] = [];
    for (const k of this.#steps) {
      const t0 = performance.now();
      const enc = this.device.createCommandEncoder();
      k.encode(enc);
      this.device.queue.submit([enc.finish()]);
      await this.device.queue.onSubmittedWorkDone();
      times.push(performance.now() - t0);
    }
    return times;
  }

  /** Labels of the step's kernels, in order (matches `profile`). */
  get kernelLabels(): string[] {
    return this.#steps.map((k) => k.label ?? "?");
  }

  /** Metrics of the last step (waits for it). */
  async metrics(): Promise<Metrics> {
    return toMetrics(await readF32(this.device, this.#metrics, METRIC_NAMES.length));
  }

  /** Forward-only metrics of batch x (no parameter, optimizer or dead-latent update). */
  async evaluate(x: Float32Array, h: StepHyper, y?: Float32Array): Promise<Metrics> {
    this.#upload(x, y);
    this.#writeHyper(h);
    const enc = this.device.createCommandEncoder();
    for (const k of this.#forward) k.encode(enc);
    this.device.queue.submit([enc.finish()]);
    return toMetrics(await readF32(this.device, this.#valMetrics, METRIC_NAMES.length));
  }

  /** The last step's gradients (after the parallel-component removal), for tests. */
  async gradients(): Promise<Partial<Record<ParamName, Float32Array>>> {
    const out: Partial<Record<ParamName, Float32Array>> = {};
    for (const [n, b] of Object.entries(this.#grads) as [ParamName, GPUBuffer][]) {
      out[n] = await readF32(this.device, b, b.size / 4);
    }
    return out;
  }

  /**
   * Dead-latent resampling (./resample.ts) after the last submitted step, toward its batch; the draw is
   * seeded by (seed, step). Returns how many latents were re-initialised.
   */
  async resample(seed: number, step: number): Promise<number> {
    if (this.cfg.d_out !== undefined) {
      throw new Error("train: resampling is not implemented for transcoders (new decoder rows would need target rows)");
    }
    this.#resampler ??= await Resampler.create({
      device: this.device,
      cfg: this.cfg,
      params: this.#params,
      m: this.#m,
      v: this.#v,
      since: this.#since,
      x: this.#x,
      rowstats: this.#rowstats!,
    });
    const n = await this.#resampler.run(seed, step);
    if (n && this.#retie) { // the re-initialised decoder rows are the tied matrix: the encoder follows
      const enc = this.device.createCommandEncoder();
      this.#retie.encode(enc);
      this.device.queue.submit([enc.finish()]);
    }
    return n;
  }

  setParams(p: SaeParams): void {
    for (const n of PARAM_NAMES) if (p[n]) writeBuffer(this.device, this.#params[n], p[n]!);
  }

  async params(): Promise<SaeParams> {
    const sizes = paramSizes(this.cfg);
    const data = await readBuffers(
      this.device,
      PARAM_NAMES.map((n) => ({ buf: this.#params[n], bytes: sizes[n] * 4 })),
    );
    return Object.fromEntries(PARAM_NAMES.map((n, i) => [n, new Float32Array(data[i])])) as unknown as SaeParams;
  }

  /** The BatchTopK threshold moving average (uncorrected for its zero start). */
  async thresholdEma(): Promise<number> {
    return (await readF32(this.device, this.#state, STATE_WORDS))[STATE.BT_THR];
  }

  /** Everything a resume needs: parameters, Adam moments, dead-latent clocks, GPU state slots. */
  async snapshot(): Promise<Record<string, Float32Array | Uint32Array>> {
    // One staging copy (per 256 MiB) and one map for all 17 tensors: each map costs ≥ 10 ms of polling.
    const { d_sae: S } = this.cfg;
    const sizes = paramSizes(this.cfg);
    const names: string[] = [];
    const parts: { buf: GPUBuffer; bytes: number }[] = [];
    for (const n of PARAM_NAMES) {
      for (const [pfx, bufs] of [["", this.#params], ["m_", this.#m], ["v_", this.#v]] as const) {
        names.push(`${pfx}${n}`);
        parts.push({ buf: bufs[n], bytes: sizes[n] * 4 });
      }
    }
    const data = await readBuffers(this.device, [
      ...parts,
      { buf: this.#since, bytes: S * 4 },
      { buf: this.#state, bytes: STATE_WORDS * 4 },
    ]);
    const out: Record<string, Float32Array | Uint32Array> = {};
    names.forEach((n, i) => out[n] = new Float32Array(data[i]));
    out.since = new Uint32Array(data[names.length]);
    out.state = new Uint32Array(data[names.length + 1]);
    return out;
  }

  restore(s: Record<string, Float32Array | Uint32Array>): void {
    for (const n of PARAM_NAMES) {
      for (const [pfx, bufs] of [["", this.#params], ["m_", this.#m], ["v_", this.#v]] as const) {
        const a = s[`${pfx}${n}`];
        if (!a) throw new Error(`checkpoint lacks "${pfx}${n}"`);
        writeBuffer(this.device, bufs[n], a);
      }
    }
    writeBuffer(this.device, this.#since, s.since);
    writeBuffer(this.device, this.#state, s.state);
  }

  destroy(): void {
    this.#resampler?.destroy();
    for (const b of this.#all) b.destroy();
    for (const t of this.#textures) t.destroy();
  }
}

function toMetrics(a: Float32Array): Metrics {
  return Object.fromEntries(METRIC_NAMES.map((n, i) => [n, a[i]])) as Metrics;
}
