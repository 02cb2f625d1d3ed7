/**
 * The trainer's parameters and Adam moments on the device, split by the slab plan (./slab_plan.ts):
 * W_enc [d_in, d_sae] is one buffer per slab of columns ([d_in, w]), W_dec [d_sae, d_in] one per slab
 * of rows ([w, d_out]); the vectors (and a skip transcoder's W_skip) are whole. Hosts see whole tensors:
 * `split` and `join` convert. d_out = d_in except for transcoders (the dense path's stay one slab; TopK's split).
 */
import { writeBuffer } from "../../kernels/runtime/mod.ts";
import type { Range } from "./slab_plan.ts";
import { PARAM_NAMES, type ParamName, paramSizes, type SaeParams } from "./trainer_types.ts";
import type { SlabInit } from "./init.ts";

/** Device buffers per parameter: a list of slab parts for W_enc / W_dec, one buffer otherwise. */
export type Parts = Record<ParamName, GPUBuffer[]>;
export type GradParts = Partial<Parts>;

export class ParamStore {
  readonly params: Parts;
  readonly m: Parts;
  readonly v: Parts;

  constructor(
    readonly D: number,
    readonly S: number,
    readonly slabs: Range[],
    alloc: (floats: number, label: string) => GPUBuffer,
    readonly shape: { d_out?: number; skip?: boolean } = {},
  ) {
    const make = (prefix: string) =>
      Object.fromEntries(
        PARAM_NAMES.map((n) => [
          n,
          this.sizes(n).map((f, j) => alloc(f, `${prefix}${n}${this.sizes(n).length > 1 ? ` ${j}` : ""}`)),
        ]),
      ) as Parts;
    this.params = make("");
    this.m = make("m_");
    this.v = make("v_");
  }

  /** f32 count of each part of parameter `n` (its gradient's parts have the same sizes). */
  sizes(n: ParamName): number[] {
    const { D, S } = this;
    const O = this.shape.d_out ?? D;
    if (n === "W_enc") return this.slabs.map((s) => s.size * D);
    if (n === "W_dec") return this.slabs.map((s) => s.size * O);
    return [paramSizes({ d_in: D, d_sae: S, ...this.shape })[n]];
  }

  /** Parts read back from the device joined into the whole tensor. */
  join(n: ParamName, parts: Float32Array[]): Float32Array {
    return joinParam(n, parts, this.#width(n), this.S, this.slabs);
  }

  /** Floats per row (W_dec: d_out) or per column (W_enc: d_in) of a split parameter. */
  #width(n: ParamName): number {
    return n === "W_dec" ? this.shape.d_out ?? this.D : this.D;
  }

  /** Upload whole tensor `host` of `n` into the given part buffers (one part's copy alive at a time). */
  write(device: GPUDevice, bufs: GPUBuffer[], n: ParamName, host: Float32Array): void {
    bufs.forEach((b, j) => writeBuffer(device, b, paramPart(n, host, this.#width(n), this.S, this.slabs, j)));
  }

  setParams(device: GPUDevice, p: Partial<SaeParams>): void {
    for (const n of PARAM_NAMES) {
      const a = p[n];
      if (a) this.write(device, this.params[n], n, a);
    }
  }

  /**
   * Upload a slab-by-slab initialisation: one slab-sized host W_enc / W_dec pair, refilled for each slab
   * (writeBuffer copies it), and each slab's upload (staging copy) finished before the next is drawn.
   */
  async upload(device: GPUDevice, init: SlabInit): Promise<void> {
    if (this.shape.d_out !== undefined && this.shape.d_out !== this.D) {
      throw new Error("train: internal: a slab initialisation of a transcoder (W_dec is [d_sae, d_out])");
    }
    const n = this.slabs[0].size * this.D; // slab 0 is the widest
    const into = { W_enc: new Float32Array(n), W_dec: new Float32Array(n) };
    for (const [j, s] of this.slabs.entries()) {
      const { W_enc, W_dec } = init.slab(s, into);
      writeBuffer(device, this.params.W_enc[j], W_enc);
      writeBuffer(device, this.params.W_dec[j], W_dec);
      device.queue.submit([]);
      await device.queue.onSubmittedWorkDone();
    }
    this.setParams(device, init.vectors);
  }

  /** Each parameter's only part: for what needs one slab (transcoders; ./slab_plan.ts refuses to split them). */
  whole(parts: Parts = this.params): Record<ParamName, GPUBuffer> {
    if (this.slabs.length !== 1) throw new Error("train: internal: a whole-tensor view of a split parameter store");
    return Object.fromEntries(PARAM_NAMES.map((n) => [n, parts[n][0]])) as Record<ParamName, GPUBuffer>;
  }
}

/** Host tensor `n` ([D, S] for W_enc, [S, D] for W_dec; D = d_out for a transcoder's W_dec) cut into its slab parts; other tensors whole. */
export function splitParam(n: ParamName, host: Float32Array, D: number, S: number, slabs: Range[]): Float32Array[] {
  const parts = n === "W_enc" || n === "W_dec" ? slabs.length : 1;
  return Array.from({ length: parts }, (_, j) => paramPart(n, host, D, S, slabs, j));
}

/** Part `j` of `splitParam` alone (W_dec rows and whole vectors are views, W_enc columns a copy). */
export function paramPart(
  n: ParamName,
  host: Float32Array,
  D: number,
  S: number,
  slabs: Range[],
  j: number,
): Float32Array {
  if (slabs.length === 1) return host; // one part: the whole tensor (W_dec may be [d_sae, d_out])
  const s = slabs[j];
  if (n === "W_dec") return host.subarray(s.start * D, (s.start + s.size) * D);
  if (n !== "W_enc") return host;
  const part = new Float32Array(D * s.size);
  for (let d = 0; d < D; d++) part.set(host.subarray(d * S + s.start, d * S + s.start + s.size), d * s.size);
  return part;
}

/** The inverse of `splitParam`. */
export function joinParam(n: ParamName, parts: Float32Array[], D: number, S: number, slabs: Range[]): Float32Array {
  if (parts.length === 1) return parts[0];
  const out = new Float32Array(D * S);
  slabs.forEach((s, j) => {
    if (n === "W_dec") out.set(parts[j].subarray(0, s.size * D), s.start * D);
    else for (let d = 0; d < D; d++) out.set(parts[j].subarray(d * s.size, (d + 1) * s.size), d * S + s.start);
  });
  return out;
}
