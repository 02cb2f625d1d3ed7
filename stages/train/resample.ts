/**
 * Dead-latent resampling between training steps (Anthropic, "Towards Monosemanticity", April 2023;
 * dictionary_learning's resample_neurons), for every architecture:
 *   dead = latents that did not fire for dead_feature_window tokens (the trainer's clocks);
 *   rows = min(#dead, batch) rows of the last step's batch, drawn without replacement with probability
 *          ∝ their squared reconstruction error ‖x_t − x̂_t‖² (the step's rowstats);
 *   each pair (dead latent, row) → kernels/optim/resample.wgsl: decoder row = the row's direction from
 *          b_dec (unit, or the alive mean norm for free-norm decoders), encoder column = 0.2 × the alive
 *          mean encoder norm × that direction, b_enc (and gated r_mag, b_mag) = 0, and every Adam
 *          moment of the latent = 0, its clock restarted. Dead latents beyond the batch wait for the next round.
 * Transcoders: rows drawn ∝ ‖y_t − ŷ_t‖² (the error on the target), the encoder column toward x_t/‖x_t‖ and the
 * decoder row toward (y_t − b_dec)/‖y_t − b_dec‖ (the target row's direction from the output bias).
 * The draw is seeded by (seed, step), so an interrupted and resumed run resamples identically.
 * Over a slab plan the dead latents and rows are picked over all latents, as with one slab; each slab's
 * parts are re-initialised by their own kernel pass (the alive norms sum over every slab first).
 */
import { createResample } from "../../kernels/optim/mod.ts";
import { createBuffer, readBuffers, writeBuffer } from "../../kernels/runtime/mod.ts";
import { Rng } from "./rng.ts";
import type { TrainerConfig } from "./trainer.ts";
import type { Parts } from "./param_store.ts";
import type { Range } from "./slab_plan.ts";

export interface ResampleSources {
  device: GPUDevice;
  cfg: TrainerConfig;
  /** The latent slabs of the parameter parts (./slab_plan.ts). */
  slabs: Range[];
  /** Parameters and Adam moments as the store's parts (./param_store.ts): W_enc / W_dec per slab. */
  params: Parts;
  m: Parts;
  v: Parts;
  since: GPUBuffer;
  x: GPUBuffer;
  /** A transcoder's targets of the last step (cfg.d_out set). */
  y?: GPUBuffer;
  /** The last step's per-row stats [batch, 8] (slot 0 = ‖x − x̂‖²). */
  rowstats: GPUBuffer;
}

/**
 * `n` distinct indices drawn without replacement with probability ∝ weights (Efraimidis–Spirakis:
 * the n largest keys u^(1/w)); zero-weight indices come only after every positive one.
 */
export function weightedSample(weights: ArrayLike<number>, n: number, rng: Rng): number[] {
  const keys = Array.from(weights, (w, i) => ({ i, k: w > 0 ? Math.log(1 - rng.next()) / w : -Infinity }));
  keys.sort((a, b) => b.k - a.k || a.i - b.i);
  return keys.slice(0, n).map((e) => e.i);
}

export class Resampler {
  #picks: GPUBuffer;
  #norms: GPUBuffer;
  private constructor(
    readonly src: ResampleSources,
    readonly kernels: Awaited<ReturnType<typeof createResample>>,
  ) {
    const B = src.cfg.batch;
    this.#picks = createBuffer(src.device, (1 + 2 * B) * 4, "resample picks");
    this.#norms = createBuffer(src.device, 8 * 4, "resample norms");
  }

  static async create(src: ResampleSources): Promise<Resampler> {
    const { cfg } = src;
    const k = await createResample(src.device, {
      D: cfg.d_in,
      S: cfg.d_sae,
      window: cfg.deadWindow,
      normalize: cfg.normalizeDecoder,
      d_out: cfg.d_out,
      slabs: src.slabs,
    });
    return new Resampler(src, k);
  }

  /** Resample after the last submitted step; returns how many latents were re-initialised. */
  async run(seed: number, step: number): Promise<number> {
    const { device, cfg, params, m, v } = this.src;
    const S = cfg.d_sae, B = cfg.batch;
    const [sinceBuf, statsBuf] = await readBuffers(device, [
      { buf: this.src.since, bytes: S * 4 },
      { buf: this.src.rowstats, bytes: B * 8 * 4 },
    ]);
    const since = new Uint32Array(sinceBuf);
    const stats = new Float32Array(statsBuf);
    const dead = [...since.keys()].filter((i) => since[i] >= cfg.deadWindow);
    if (!dead.length) return 0;
    const losses = Float64Array.from({ length: B }, (_, t) => stats[t * 8]);
    const rows = weightedSample(losses, Math.min(dead.length, B), new Rng(seed, 1000 + step));
    const words = new Uint32Array(1 + 2 * rows.length);
    words[0] = rows.length;
    rows.forEach((t, j) => words.set([dead[j], t], 1 + 2 * j));
    writeBuffer(device, this.#picks, words);
    const perLatent = [
      params.b_enc[0],
      params.r_mag[0],
      params.b_mag[0],
      ...(["b_enc", "r_mag", "b_mag", "log_threshold"] as const).flatMap((n) => [m[n][0], v[n][0]]),
    ];
    const ks = this.kernels(
      {
        picks: this.#picks,
        x: this.src.x,
        y: this.src.y,
        b_dec: params.b_dec[0],
        norms: this.#norms,
        W_enc: params.W_enc,
        W_dec: params.W_dec,
        since: this.src.since,
        mW_enc: m.W_enc,
        vW_enc: v.W_enc,
        mW_dec: m.W_dec,
        vW_dec: v.W_dec,
      },
      rows.length,
      perLatent,
    );
    const enc = device.createCommandEncoder();
    for (const k of ks) k.encode(enc);
    device.queue.submit([enc.finish()]);
    return rows.length;
  }

  destroy(): void {
    this.#picks.destroy();
    this.#norms.destroy();
  }
}
