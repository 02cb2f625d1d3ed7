/**
 * What a GEMM is asked to compute (`GemmSpec`), the buffers it is given, and the checks and small
 * helpers both paths (./buffer_path.ts, ./texture_path.ts) share. Formula and paths: ./mod.ts.
 */
import type { RowTexture } from "../runtime/row_texture.ts";
import type { GemmTile } from "./tile.ts";

export interface GemmDims {
  M: number;
  K: number;
  N: number;
}

export interface GemmSpec extends GemmDims {
  transA?: boolean;
  transB?: boolean;
  /** Add bias[n] (a buffer of N f32). */
  bias?: boolean;
  /** Add into the existing contents of `out` instead of overwriting it. */
  accumulate?: boolean;
  /** Subtract sub[k] (a buffer of K f32) from every row of opA first. */
  subtractInput?: boolean;
  /** Scale of the product (not of bias or the accumulated C). Default 1. */
  alpha?: number;
  /** "auto" (default): texture path when available and fitting, else buffer. */
  path?: "auto" | "texture" | "buffer";
  /**
   * Write C into this row texture (kernels/runtime/row_texture.ts, M × N) instead of the buffer `out`:
   * texture path only, N % 4 == 0, no accumulate. Saves the consumer (e.g. TopK) a buffer→texture copy.
   */
  outTexture?: RowTexture;
  /** Texture path: this register tile instead of the device's choice (./tile.ts); tests and benches. */
  tile?: GemmTile;
}

export interface GemmBuffers {
  a: GPUBuffer;
  b: GPUBuffer;
  /** C; unused (may be omitted) with `outTexture`. */
  out?: GPUBuffer;
  bias?: GPUBuffer;
  sub?: GPUBuffer;
}

export interface Gemm {
  /** Record the work (its own compute passes) into a command encoder. */
  encode(enc: GPUCommandEncoder, bufs: GemmBuffers): void;
  /** 2·M·K·N, for GFLOP/s. */
  readonly flops: number;
  /** The path chosen at creation. */
  readonly path: "texture" | "buffer";
  /** Texture path: the register tile and workgroup shape it runs (./tile.ts). */
  readonly tile?: GemmTile;
  /** Frees the GEMM's own textures and uniforms (not the caller's buffers). */
  destroy(): void;
  /**
   * Texture path, plain A (no transA) with K % 4 == 0: opA as the last encode packed it (minus sub with
   * subtractInput) — a row texture of M × K (fold 1) that later kernels of the step may read; else
   * undefined. Refilled by every encode.
   */
  readonly packedA?: RowTexture;
}

export type Encode = (enc: GPUCommandEncoder, bufs: GemmBuffers) => void;
/** What a path creates and frees with the GEMM. */
export type Owned = { destroy(): void }[];

/** A small uniform buffer with the given u32/f32 fields (in WGSL struct order). */
export function paramsBuffer(device: GPUDevice, fields: { u32?: number; f32?: number }[]): GPUBuffer {
  const data = new ArrayBuffer(Math.max(16, Math.ceil(fields.length / 4) * 16));
  const view = new DataView(data);
  fields.forEach((f, i) => {
    if (f.f32 !== undefined) view.setFloat32(4 * i, f.f32, true);
    else view.setUint32(4 * i, f.u32!, true);
  });
  const buf = device.createBuffer({ size: data.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buf, 0, data);
  return buf;
}

/** flags bits shared by the kernels: 1 bias, 2 accumulate, 4 subtract (buffer kernel only). */
export function flagBits(spec: GemmSpec): number {
  return (spec.bias ? 1 : 0) | (spec.accumulate ? 2 : 0) | (spec.subtractInput ? 4 : 0);
}

export function checkDim(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1 || v > 0xffffffff) {
    throw new Error(`gemm: ${name} must be a positive integer, got ${v}`);
  }
}

export function checkGroups(device: GPUDevice, spec: GemmSpec, x: number, y: number): void {
  const max = device.limits.maxComputeWorkgroupsPerDimension;
  if (x > max || y > max) {
    throw new Error(
      `gemm: ${spec.M}×${spec.N} output needs more than maxComputeWorkgroupsPerDimension (${max}) workgroups`,
    );
  }
}

/** Required byte length of each buffer, for validation. */
export function requiredBytes(spec: GemmSpec): Record<"a" | "b" | "out" | "bias" | "sub", number> {
  const { M, K, N } = spec;
  return { a: M * K * 4, b: K * N * 4, out: M * N * 4, bias: N * 4, sub: K * 4 };
}

/** Validates the caller's buffers against the spec (clear one-line errors). */
export function checkBuffers(spec: GemmSpec, bufs: GemmBuffers): void {
  const need = requiredBytes(spec);
  const used: ("a" | "b" | "out" | "bias" | "sub")[] = ["a", "b"];
  if (!spec.outTexture) used.push("out");
  if (spec.bias) used.push("bias");
  if (spec.subtractInput) used.push("sub");
  for (const name of used) {
    const buf = bufs[name];
    if (!buf) throw new Error(`gemm: buffer '${name}' is required by this GEMM`);
    if (buf.size < need[name]) throw new Error(`gemm: buffer '${name}' has ${buf.size} bytes, needs ${need[name]}`);
  }
}

/** Remembers the last bind group made for a tuple of resources (the trainer reuses its buffers). */
export function lastGroupCache(
  make: (key: GPUBuffer[]) => GPUBindGroup,
): (key: (GPUBuffer | undefined)[]) => GPUBindGroup {
  let last: { key: (GPUBuffer | undefined)[]; group: GPUBindGroup } | undefined;
  return (key) => {
    if (last && last.key.length === key.length && last.key.every((b, i) => b === key[i])) return last.group;
    const group = make(key as GPUBuffer[]);
    last = { key, group };
    return group;
  };
}
