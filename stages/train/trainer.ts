/**
 * The SAE trainer on WebGPU. Weights, Adam moments and every intermediate live on the device; a step
 * uploads one activation batch and the step's hyper-parameters, records all kernels into one command
 * buffer and submits it without waiting. The host reads the 8 metrics only when it asks.
 *
 * Width is bounded by device memory, not by one storage binding: ./slab_plan.ts splits d_sae into
 * latent slabs (and the encoder's batch into chunks) and the parameters live in per-slab buffers
 * (./param_store.ts). The step itself: ./sparse_path.ts (topk, batchtopk, matryoshka_batchtopk),
 * ./dense_path.ts (standard, jumprelu) and its variants ./arch_gated.ts (gated) and ./arch_transcoder.ts
 * (transcoders), all ending in ./optimizer_path.ts (drop the gradient parallel to decoder rows, clip by
 * global norm, Adam, renormalise rows; tied weights). Dead-latent resampling: ./resample.ts.
 * Matryoshka's prefix decodes, tied weights (./tie_slabs.ts) and resampling work slab by slab too.
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
import { ParamStore } from "./param_store.ts";
import { SlabInit } from "./init.ts";
import { type SnapshotStream, snapshotStream } from "./snapshot.ts";
import { describeNeed, type SlabPlan } from "./slab_plan.ts";
import { buildDense } from "./dense_path.ts";
import { buildGated } from "./arch_gated.ts";
import { buildTranscoder } from "./arch_transcoder.ts";
import { checkConfig } from "./check_config.ts";
import { Resampler } from "./resample.ts";
import { buildSparse, selectionCaps } from "./sparse_path.ts";
export { checkConfig } from "./check_config.ts";
import type { StepContext, StepKernels } from "./step_context.ts";
import {
  isSparse,
  type Metrics,
  PARAM_NAMES,
  type ParamName,
  type SaeParams,
  type StepHyper,
  type TrainerConfig,
} from "./trainer_types.ts";

export {
  type Architecture,
  isBatchTopk,
  isSparse,
  type Metrics,
  PARAM_NAMES,
  type ParamName,
  paramSizes,
  type SaeParams,
  type StepHyper,
  type TrainerConfig,
} from "./trainer_types.ts";

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
  #store: ParamStore;
  #since: GPUBuffer;
  #state: GPUBuffer;
  #owned: { destroy(): void }[] = [];
  #bytes = 0;
  #grads: StepKernels["grads"] = {};
  #entries: StepKernels["entries"];
  #rowstats?: GPUBuffer;
  #retie?: BoundKernel;
  #resampler?: Resampler;

  private constructor(readonly device: GPUDevice, readonly cfg: TrainerConfig, readonly plan: SlabPlan) {
    const { batch: B, d_in: D, d_sae: S } = cfg;
    const caps = isSparse(cfg.architecture) ? selectionCaps(cfg) : { cap: cfg.k, auxCap: 0 };
    this.cap = caps.cap;
    this.auxCap = caps.auxCap;
    this.#x = this.#buf(B * D, "x");
    this.#y = this.#buf(cfg.d_out !== undefined ? B * cfg.d_out : 1, "y (transcoder target)");
    this.#hyper = this.#buf(HYPER_WORDS, "hyper");
    this.#metrics = this.#buf(METRIC_NAMES.length, "metrics");
    this.#valMetrics = this.#buf(METRIC_NAMES.length, "val metrics");
    this.#store = new ParamStore(D, S, plan.slabs, (n, label) => this.#buf(n, label), cfg);
    this.#since = this.#buf(S, "since");
    this.#state = this.#buf(STATE_WORDS, "state");
  }

  /**
   * Build buffers and pipelines, upload the initial parameters: whole host tensors, or a `SlabInit`
   * drawn and uploaded slab by slab (no whole W_enc / W_dec host copies).
   */
  static async create(device: GPUDevice, cfg: TrainerConfig, init: SaeParams | SlabInit): Promise<GpuTrainer> {
    const plan = checkConfig(cfg, device);
    device.pushErrorScope("out-of-memory");
    const t = new GpuTrainer(device, cfg, plan);
    let built: StepKernels | undefined;
    let failure: unknown;
    try {
      if (init instanceof SlabInit) await t.#store.upload(device, init);
      else t.setParams(init);
      t.#resetOptimizer();
      built = await t.#build();
    } catch (e) {
      failure = e;
    }
    const oom = await device.popErrorScope();
    if (oom || !built) {
      t.destroy();
      if (oom) {
        throw new Error(
          `train: out of device memory: the config ${describeNeed(plan.memory)}; lower d_sae or batch_size`,
        );
      }
      throw failure;
    }
    t.#steps = built.step;
    t.#forward = built.forward;
    t.#grads = built.grads;
    t.#entries = built.entries;
    t.#rowstats = built.rowstats;
    t.#retie = built.retie;
    return t;
  }

  /** The architecture's step builder. */
  #build(): Promise<StepKernels> {
    const c = this.#context();
    if (this.cfg.d_out !== undefined && !isSparse(this.cfg.architecture)) return buildTranscoder(c);
    if (this.cfg.architecture === "gated") return buildGated(c);
    return isSparse(this.cfg.architecture) ? buildSparse(c) : buildDense(c);
  }

  /** Device bytes of the buffers and row textures the trainer allocated (kernels' own scratch excluded). */
  get deviceBytes(): number {
    return this.#bytes;
  }

  #context(): StepContext {
    return {
      device: this.device,
      cfg: this.cfg,
      plan: this.plan,
      store: this.#store,
      x: this.#x,
      y: this.#y,
      hyper: this.#hyper,
      state: this.#state,
      since: this.#since,
      metrics: this.#metrics,
      valMetrics: this.#valMetrics,
      buf: (n, label) => this.#buf(n, label),
      tex: (rows, cols, label, src) => this.#tex(rows, cols, label, src),
      own: (o) => this.#owned.push(o),
    };
  }

  /** A row texture mirroring `src` and the step's kernel that refreshes it. */
  #tex(rows: number, cols: number, label: string, src: GPUBuffer): { texture: RowTexture; copy: BoundKernel } {
    const texture = createRowTexture(this.device, rows, cols, label);
    this.#owned.push(texture);
    this.#bytes += rows * cols * 4;
    return { texture, copy: { label: `copy ${label}`, encode: (e) => texture.encodeCopy(e, src) } };
  }

  #buf(n: number, label: string): GPUBuffer {
    const b = createBuffer(this.device, n * 4, label);
    this.#owned.push(b);
    this.#bytes += b.size;
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
  async profile(x: Float32Array, h: StepHyper, y?: Float32Array): Promise<number[]> {
    this.#upload(x, y);
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

  /**
   * The last step's gradients (after the parallel-component removal), whole tensors, for tests. A split
   * TopK step streams W_enc / W_dec gradients into Adam slab by slab (./optimizer_path.ts) and keeps
   * neither, unless clipping, tied weights or the test-only `keepGradients` store them.
   */
  async gradients(): Promise<Partial<Record<ParamName, Float32Array>>> {
    const names = PARAM_NAMES.filter((n) => this.#grads[n]);
    return Object.fromEntries(
      await Promise.all(names.map(async (n) => [n, await this.#readParts(n, this.#grads[n]!)])),
    );
  }

  /** TopK family: the last step's (idx, val) entries, main (batch × cap) then AuxK (batch × auxCap); for tests. */
  async entries(): Promise<{ idx: Uint32Array; val: Float32Array }> {
    if (!this.#entries) throw new Error("train: the dense architectures have no sparse entries");
    const n = this.cfg.batch * (this.cap + this.auxCap) * 4;
    const [idx, val] = await readBuffers(this.device, [{ buf: this.#entries.idx, bytes: n }, {
      buf: this.#entries.val,
      bytes: n,
    }]);
    return { idx: new Uint32Array(idx), val: new Float32Array(val) };
  }

  /**
   * Dead-latent resampling (./resample.ts) after the last submitted step, toward its batch; the draw is
   * seeded by (seed, step). Returns how many latents were re-initialised.
   */
  async resample(seed: number, step: number): Promise<number> {
    const store = this.#store;
    this.#resampler ??= await Resampler.create({
      device: this.device,
      cfg: this.cfg,
      slabs: this.plan.slabs,
      params: store.params,
      m: store.m,
      v: store.v,
      since: this.#since,
      x: this.#x,
      y: this.cfg.d_out !== undefined ? this.#y : undefined,
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
    this.#store.setParams(this.device, p);
  }

  async params(): Promise<SaeParams> {
    const P = this.#store.params;
    const out = await Promise.all(PARAM_NAMES.map((n) => this.#readParts(n, P[n])));
    return Object.fromEntries(PARAM_NAMES.map((n, i) => [n, out[i]])) as unknown as SaeParams;
  }

  /** Parameter `n`'s parts (exact sizes) read in one map and joined into the whole tensor. */
  async #readParts(n: ParamName, bufs: GPUBuffer[]): Promise<Float32Array> {
    const sizes = this.#store.sizes(n);
    const data = await readBuffers(this.device, bufs.map((buf, j) => ({ buf, bytes: sizes[j] * 4 })));
    return this.#store.join(n, data.map((d) => new Float32Array(d)));
  }

  /** The BatchTopK threshold moving average (uncorrected for its zero start). */
  async thresholdEma(): Promise<number> {
    return (await readF32(this.device, this.#state, STATE_WORDS))[STATE.BT_THR];
  }

  /** Everything a resume needs: parameters, Adam moments, dead-latent clocks, GPU state slots (whole tensors). */
  async snapshot(): Promise<Record<string, Float32Array | Uint32Array>> {
    const { specs, data } = this.snapshotStream();
    const out: Record<string, Float32Array | Uint32Array> = {};
    let i = 0;
    for await (const a of data) out[specs[i++].name] = a;
    return out;
  }

  /**
   * `snapshot` as tensor specs and a stream of their data, a bounded group at a time (./snapshot.ts);
   * `groupBytes` (tests) bounds a group below its 256 MiB default.
   */
  snapshotStream(groupBytes?: number): SnapshotStream {
    return snapshotStream(this.device, this.#store, { since: this.#since, state: this.#state }, groupBytes);
  }

  /** Write a snapshot back, one tensor's upload finished before the next (bounded staging copies). */
  async restore(s: Record<string, Float32Array | Uint32Array>): Promise<void> {
    const store = this.#store;
    for (const n of PARAM_NAMES) {
      for (const [pfx, bufs] of [["", store.params], ["m_", store.m], ["v_", store.v]] as const) {
        const a = s[`${pfx}${n}`];
        if (!a) throw new Error(`checkpoint lacks "${pfx}${n}"`);
        store.write(this.device, bufs[n], n, a as Float32Array);
        this.device.queue.submit([]);
        await this.device.queue.onSubmittedWorkDone();
      }
    }
    writeBuffer(this.device, this.#since, s.since);
    writeBuffer(this.device, this.#state, s.state);
  }

  destroy(): void {
    this.#resampler?.destroy();
    this.#resampler = undefined;
    for (const o of this.#owned) o.destroy();
    this.#owned = [];
  }
}

function toMetrics(a: Float32Array): Metrics {
  return Object.fromEntries(METRIC_NAMES.map((n, i) => [n, a[i]])) as Metrics;
}
