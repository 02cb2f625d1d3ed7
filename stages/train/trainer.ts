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
 * Then: drop the gradient parallel to decoder rows, clip by global norm, Adam, renormalise rows.
 */
import {
  type BoundKernel,
  createBuffer,
  createRowTexture,
  HYPER_WORDS,
  hyperArray,
  readBuffers,
  readF32,
  type RowTexture,
  STATE,
  STATE_WORDS,
  writeBuffer,
} from "../../kernels/runtime/mod.ts";
import { METRIC_NAMES } from "../../kernels/loss/mod.ts";
import {
  checkConfig,
  isSparse,
  type Metrics,
  PARAM_NAMES,
  type ParamName,
  type SaeParams,
  type StepHyper,
  type TrainerConfig,
} from "./trainer_config.ts";
import type { StepContext } from "./step_context.ts";
import { buildSparseStep } from "./sparse_step.ts";
import { buildDenseStep } from "./dense_step.ts";

export {
  type Architecture,
  checkConfig,
  isSparse,
  type Metrics,
  PARAM_NAMES,
  type SaeParams,
  type StepHyper,
  type TrainerConfig,
} from "./trainer_config.ts";

export class GpuTrainer {
  readonly cap: number;
  readonly auxCap: number;
  #steps: BoundKernel[] = [];
  #forward: BoundKernel[] = [];
  #x: GPUBuffer;
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

  private constructor(readonly device: GPUDevice, readonly cfg: TrainerConfig) {
    const { batch: B, d_in: D, d_sae: S } = cfg;
    this.cap = cfg.architecture === "batchtopk" ? Math.min(S, Math.ceil(cfg.k * cfg.batchTopkCap)) : cfg.k;
    this.auxCap = isSparse(cfg.architecture) ? Math.min(cfg.auxK, S) : 0;
    const buf = (n: number, label: string) => {
      const b = createBuffer(device, n * 4, label);
      this.#all.push(b);
      return b;
    };
    this.#x = buf(B * D, "x");
    this.#hyper = buf(HYPER_WORDS, "hyper");
    this.#metrics = buf(METRIC_NAMES.length, "metrics");
    this.#valMetrics = buf(METRIC_NAMES.length, "val metrics");
    const sizes: Record<ParamName, number> = { W_enc: D * S, W_dec: S * D, b_enc: S, b_dec: D, log_threshold: S };
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
    const built = await (isSparse(cfg.architecture) ? buildSparseStep(t.#context()) : buildDenseStep(t.#context()));
    t.#steps = built.steps;
    t.#forward = built.forward;
    t.#grads = built.grads;
    return t;
  }

  /** What the step builders see of this trainer. */
  #context(): StepContext {
    return {
      device: this.device,
      cfg: this.cfg,
      cap: this.cap,
      auxCap: this.auxCap,
      x: this.#x,
      hyper: this.#hyper,
      state: this.#state,
      since: this.#since,
      metrics: this.#metrics,
      valMetrics: this.#valMetrics,
      params: this.#params,
      m: this.#m,
      v: this.#v,
      buf: (n, label) => this.#buf(n, label),
      rowTexture: (rows, cols, label, src) => this.#tex(rows, cols, label, src),
      keepTexture: (tex) => this.#textures.push(tex),
    };
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

  #upload(x: Float32Array): void {
    const n = this.cfg.batch * this.cfg.d_in;
    if (x.length !== n) {
      throw new Error(`train: batch has ${x.length} values, expected ${this.cfg.batch} × ${this.cfg.d_in}`);
    }
    writeBuffer(this.device, this.#x, x);
  }

  /** Record and submit one training step on batch x [batch, d_in]; does not wait. */
  step(x: Float32Array, h: StepHyper): void {
    this.#upload(x);
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
  async evaluate(x: Float32Array, h: StepHyper): Promise<Metrics> {
    this.#upload(x);
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

  setParams(p: SaeParams): void {
    for (const n of PARAM_NAMES) writeBuffer(this.device, this.#params[n], p[n]);
  }

  async params(): Promise<SaeParams> {
    const { d_in: D, d_sae: S } = this.cfg;
    const sizes: Record<ParamName, number> = { W_enc: D * S, W_dec: S * D, b_enc: S, b_dec: D, log_threshold: S };
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
    const { d_in: D, d_sae: S } = this.cfg;
    const sizes: Record<ParamName, number> = { W_enc: D * S, W_dec: S * D, b_enc: S, b_dec: D, log_threshold: S };
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
    for (const b of this.#all) b.destroy();
    for (const t of this.#textures) t.destroy();
  }
}

function toMetrics(a: Float32Array): Metrics {
  return Object.fromEntries(METRIC_NAMES.map((n, i) => [n, a[i]])) as Metrics;
}
