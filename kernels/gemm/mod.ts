/**
 * Dense f32 GEMMs on WebGPU for the SAE trainer (row-major storage buffers):
 *
 *   C[M,N] = (accumulate ? C : 0) + alpha · opA[M,K] · opB[K,N] + bias[N]
 *
 * opA = A stored [M,K], or Aᵀ with `transA` (A stored [K,M]); opB = B stored [K,N], or Bᵀ with
 * `transB` (B stored [N,K]). `subtractInput` uses opA[m,k] - sub[k] (SAELens apply_b_dec_to_input).
 * Trainer uses: encoder x·W_enc + b_enc (plain), dense decode z·W_dec, dz = dx̂·W_decᵀ (transB),
 * dW_dec = zᵀ·dx̂ and dW_enc = xᵀ·dpre (transA).
 *
 * Two paths, same results (within f32 rounding):
 * - texture (default): each call packs A and B into zero-padded rgba32float textures (a buffer copy when
 *   the buffer has COPY_SRC usage and rows are 256-byte multiples, else pack_tex.wgsl) and runs
 *   gemm_tex.wgsl. Needs the WGSL feature readonly_and_readwrite_storage_textures and texture sides ≤
 *   device.limits.maxTextureDimension2D (8192 by default: e.g. M ≤ 8192 rows for a plain A; request a
 *   higher limit on the device for more).
 *   Each instance owns its two padded textures (memory ≈ size of A + B): create one per shape and
 *   reuse it every step. Give operand buffers COPY_SRC usage so aligned ones are copied, not packed.
 * - buffer: gemm_buffer.wgsl reads the buffers directly; ~20x slower on lavapipe, used when the
 *   texture path is unavailable or does not fit.
 *
 * Limit on both: every operand binding must fit `device.limits.maxStorageBufferBindingSize` (128 MiB
 * on lavapipe and the WebGPU default: 4096×8192 f32 fits exactly); larger operands throw at creation.
 */
import { readWgsl } from "../wgsl_source.ts";
import { expandTemplate } from "./unroll.ts";
import type { RowTexture } from "../row_texture.ts";

const BUFFER_SHADER = new URL("./gemm_buffer.wgsl", import.meta.url);
const TEX_SHADER = new URL("./gemm_tex.wgsl", import.meta.url);
const PACK_SHADER = new URL("./pack_tex.wgsl", import.meta.url);

/** gemm_buffer.wgsl: outputs per workgroup along M and N (TM·WG_Y, TN·WG_X). */
const BUF_TILE = { M: 32, N: 32 };
/** gemm_tex.wgsl register tile (R rows × 4·CQ columns per invocation) and workgroup shape. */
const TEX = { R: 16, CQ: 4, WG_X: 8, WG_Y: 2 };
const TEX_TILE = { M: TEX.R * TEX.WG_Y, N: 4 * TEX.CQ * TEX.WG_X };

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
   * Write C into this row texture (kernels/row_texture.ts, M × N) instead of the buffer `out`: texture
   * path only, N % 4 == 0, no accumulate. Saves the consumer (e.g. TopK) a buffer→texture copy.
   */
  outTexture?: RowTexture;
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
  /** Frees the GEMM's own textures and uniforms (not the caller's buffers). */
  destroy(): void;
  /**
   * Texture path, plain A (no transA) with K % 4 == 0: opA as the last encode packed it (minus sub with
   * subtractInput) — a row texture of M × K (fold 1) that later kernels of the step may read; else
   * undefined. Refilled by every encode.
   */
  readonly packedA?: RowTexture;
}

interface CachedPipeline {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

/**
 * One compiled pipeline per (device, shader, layout constants): compiling the unrolled texture kernel
 * takes ~0.3 s on lavapipe, and sizes live in a uniform, so every GEMM of a layout shares it.
 */
const pipelineCache = new WeakMap<GPUDevice, Map<string, CachedPipeline>>();
function cachedPipeline(
  device: GPUDevice,
  url: URL,
  bindings: BindingKind[],
  constants: Record<string, number>,
  template?: Record<string, number>,
): CachedPipeline {
  let byDevice = pipelineCache.get(device);
  if (!byDevice) pipelineCache.set(device, byDevice = new Map());
  const key = url.href + JSON.stringify([constants, template]);
  let entry = byDevice.get(key);
  if (!entry) {
    const text = readWgsl(url);
    const module = device.createShaderModule({ label: key, code: template ? expandTemplate(text, template) : text });
    const layout = bindGroupLayout(device, bindings);
    const pipeline = device.createComputePipeline({
      label: key,
      layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: "main", constants },
    });
    entry = { pipeline, layout };
    byDevice.set(key, entry);
  }
  return entry;
}

/** A small uniform buffer with the given u32/f32 fields (in WGSL struct order). */
function paramsBuffer(device: GPUDevice, fields: { u32?: number; f32?: number }[]): GPUBuffer {
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
function flagBits(spec: GemmSpec): number {
  return (spec.bias ? 1 : 0) | (spec.accumulate ? 2 : 0) | (spec.subtractInput ? 4 : 0);
}

function checkDim(name: string, v: number): void {
  if (!Number.isInteger(v) || v < 1 || v > 0xffffffff) {
    throw new Error(`gemm: ${name} must be a positive integer, got ${v}`);
  }
}

function checkBinding(device: GPUDevice, name: string, floats: number): void {
  const bytes = floats * 4;
  const max = device.limits.maxStorageBufferBindingSize;
  if (bytes > max) {
    throw new Error(
      `gemm: ${name} needs ${bytes} bytes, over the device's maxStorageBufferBindingSize (${max}); split the operation`,
    );
  }
}

function checkGroups(device: GPUDevice, spec: GemmSpec, x: number, y: number): void {
  const max = device.limits.maxComputeWorkgroupsPerDimension;
  if (x > max || y > max) {
    throw new Error(
      `gemm: ${spec.M}×${spec.N} output needs more than maxComputeWorkgroupsPerDimension (${max}) workgroups`,
    );
  }
}

type BindingKind = "read-only-storage" | "storage" | "uniform" | "tex-read" | "tex-write";

function bindGroupLayout(device: GPUDevice, types: BindingKind[]): GPUBindGroupLayout {
  return device.createBindGroupLayout({
    entries: types.map((t, binding): GPUBindGroupLayoutEntry =>
      t === "tex-read" || t === "tex-write"
        ? {
          binding,
          visibility: GPUShaderStage.COMPUTE,
          storageTexture: { access: t === "tex-read" ? "read-only" : "write-only", format: "rgba32float" },
        }
        : { binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: t } }
    ),
  });
}

/** Remembers the last bind group made for a tuple of resources (the trainer reuses its buffers). */
function lastGroupCache(make: (key: GPUBuffer[]) => GPUBindGroup): (key: (GPUBuffer | undefined)[]) => GPUBindGroup {
  let last: { key: (GPUBuffer | undefined)[]; group: GPUBindGroup } | undefined;
  return (key) => {
    if (last && last.key.length === key.length && last.key.every((b, i) => b === key[i])) return last.group;
    const group = make(key as GPUBuffer[]);
    last = { key, group };
    return group;
  };
}

/** The general GEMM (see the module doc). Compiles once per call; reuse the result across steps. */
export function createGemm(device: GPUDevice, spec: GemmSpec): Gemm {
  const { M, K, N } = spec;
  checkDim("M", M);
  checkDim("K", K);
  checkDim("N", N);
  checkBinding(device, "A", M * K);
  checkBinding(device, "B", K * N);
  checkBinding(device, "C", M * N);
  const want = spec.path ?? "auto";
  const fits = textureFits(device, spec);
  if (want === "texture" && !fits) {
    throw new Error(
      `gemm: texture path unavailable for ${M}×${K}×${N} (needs readonly_and_readwrite_storage_textures and sides ≤ maxTextureDimension2D ${device.limits.maxTextureDimension2D})`,
    );
  }
  const useTexture = want === "texture" || (want === "auto" && fits);
  const t = spec.outTexture;
  if (t && (!useTexture || N % 4 !== 0 || spec.accumulate || t.rows !== M || t.cols !== N)) {
    throw new Error(
      `gemm: outTexture needs the texture path, N % 4 == 0, no accumulate and a ${M} × ${N} texture (got ${t.rows} × ${t.cols})`,
    );
  }
  const owned: { destroy(): void }[] = [];
  if (!useTexture) {
    return {
      flops: 2 * M * K * N,
      path: "buffer",
      encode: bufferGemm(device, spec, owned),
      destroy: () => owned.forEach((o) => o.destroy()),
    };
  }
  const { encode, packedA } = textureGemm(device, spec, owned);
  return { flops: 2 * M * K * N, path: "texture", encode, packedA, destroy: () => owned.forEach((o) => o.destroy()) };
}

/** Required byte length of each buffer, for validation. */
function requiredBytes(spec: GemmSpec): Record<"a" | "b" | "out" | "bias" | "sub", number> {
  const { M, K, N } = spec;
  return { a: M * K * 4, b: K * N * 4, out: M * N * 4, bias: N * 4, sub: K * 4 };
}

/** Validates the caller's buffers against the spec (clear one-line errors). */
function checkBuffers(spec: GemmSpec, bufs: GemmBuffers): void {
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

type Encode = (enc: GPUCommandEncoder, bufs: GemmBuffers) => void;

function bufferGemm(device: GPUDevice, spec: GemmSpec, owned: { destroy(): void }[]): Encode {
  const { M, K, N } = spec;
  const groupsX = Math.ceil(N / BUF_TILE.N);
  const groupsY = Math.ceil(M / BUF_TILE.M);
  checkGroups(device, spec, groupsX, groupsY);
  const { pipeline, layout } = cachedPipeline(
    device,
    BUFFER_SHADER,
    ["read-only-storage", "read-only-storage", "read-only-storage", "read-only-storage", "storage", "uniform"],
    { TRANS_A: spec.transA ? 1 : 0, TRANS_B: spec.transB ? 1 : 0 },
  );
  const params = paramsBuffer(device, [{ u32: M }, { u32: K }, { u32: N }, { u32: flagBits(spec) }, {
    f32: spec.alpha ?? 1,
  }]);
  const need = requiredBytes(spec);
  const dummy = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
  owned.push(params, dummy);
  const group = lastGroupCache(([a, b, out, bias, sub]) =>
    device.createBindGroup({
      layout,
      entries: [
        { buffer: a, size: need.a },
        { buffer: b, size: need.b },
        spec.bias ? { buffer: bias, size: need.bias } : { buffer: dummy },
        spec.subtractInput ? { buffer: sub, size: need.sub } : { buffer: dummy },
        { buffer: out, size: need.out },
        { buffer: params },
      ].map((resource, binding) => ({ binding, resource })),
    })
  );
  return (enc, bufs) => {
    checkBuffers(spec, bufs);
    const bg = group([bufs.a, bufs.b, bufs.out, bufs.bias, bufs.sub]);
    const pass = enc.beginComputePass({ label: "gemm_buffer" });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bg);
    pass.dispatchWorkgroups(groupsX, groupsY);
    pass.end();
  };
}

/** Texture sides for the padded operands: [width in texels, height]. */
function textureShapes(spec: GemmSpec) {
  const { M, K, N } = spec;
  const Mpad = Math.ceil(M / TEX_TILE.M) * TEX_TILE.M;
  const Npad = Math.ceil(N / TEX_TILE.N) * TEX_TILE.N;
  const KQ = Math.ceil(K / 4);
  // The texture holds the logical matrix L[rows, cols] (texel = 4 consecutive columns); transpose: the
  // buffer stores Lᵀ. subMode 1 subtracts sub[col] (sub is indexed by k, a column of opA).
  const a = { size: [KQ, Mpad], rows: M, cols: K, transpose: !!spec.transA, subMode: spec.subtractInput ? 1 : 0 };
  const b = spec.transB
    ? { size: [KQ, Npad], rows: N, cols: K, transpose: false, subMode: 0 }
    : { size: [Npad / 4, 4 * KQ], rows: K, cols: N, transpose: false, subMode: 0 };
  return { a, b, KQ, groups: [Npad / TEX_TILE.N, Mpad / TEX_TILE.M] };
}

function textureFits(device: GPUDevice, spec: GemmSpec): boolean {
  const features = (navigator.gpu as { wgslLanguageFeatures?: ReadonlySet<string> }).wgslLanguageFeatures;
  if (!features?.has("readonly_and_readwrite_storage_textures")) return false;
  const { a, b } = textureShapes(spec);
  const max = device.limits.maxTextureDimension2D;
  return [...a.size, ...b.size].every((s) => s <= max);
}

function textureGemm(
  device: GPUDevice,
  spec: GemmSpec,
  owned: { destroy(): void }[],
): { encode: Encode; packedA?: RowTexture } {
  const { M, K, N } = spec;
  const shapes = textureShapes(spec);
  checkGroups(device, spec, shapes.groups[0], shapes.groups[1]);
  const packA = createPacker(device, shapes.a, "A", owned);
  const packB = createPacker(device, shapes.b, "B", owned);
  const { pipeline, layout } = cachedPipeline(
    device,
    TEX_SHADER,
    ["tex-read", "tex-read", "read-only-storage", "storage", "uniform", "tex-write"],
    { B_T: spec.transB ? 1 : 0, OUT_TEX: spec.outTexture ? 1 : 0 },
    TEX,
  );
  const outTex = spec.outTexture;
  const fields = [{ u32: M }, { u32: N }, { u32: shapes.KQ }, { u32: flagBits(spec) & 3 }, { f32: spec.alpha ?? 1 }];
  const params = paramsBuffer(device, [...fields, { u32: outTex?.fold ?? 1 }, { u32: outTex?.qw ?? 1 }]);
  const need = requiredBytes(spec);
  const dummy = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
  const dummyTex = device.createTexture({
    size: [1, 1],
    format: "rgba32float",
    usage: GPUTextureUsage.STORAGE_BINDING,
  });
  owned.push(params, dummy, dummyTex);
  const aView = packA.texture.createView();
  const bView = packB.texture.createView();
  const dummyView = dummyTex.createView();
  const group = lastGroupCache(([out, bias]) =>
    device.createBindGroup({
      layout,
      entries: [
        { binding: 0, resource: aView },
        { binding: 1, resource: bView },
        { binding: 2, resource: spec.bias ? { buffer: bias, size: need.bias } : { buffer: dummy } },
        { binding: 3, resource: outTex ? { buffer: dummy } : { buffer: out, size: need.out } },
        { binding: 4, resource: { buffer: params } },
        { binding: 5, resource: outTex ? outTex.view : dummyView },
      ],
    })
  );
  // The packed A doubles as a row texture (fold 1: row m at texel row m) when it holds plain opA.
  const packedA: RowTexture | undefined = !spec.transA && K % 4 === 0
    ? {
      rows: M,
      cols: K,
      fold: 1,
      qw: K / 4,
      view: aView,
      encodeCopy: () => {
        throw new Error("gemm: packedA is filled by the GEMM's encode, not copied");
      },
      destroy: () => {},
    }
    : undefined;
  return {
    packedA,
    encode: (enc, bufs) => {
      checkBuffers(spec, bufs);
      const bg = group([outTex ? undefined : bufs.out, bufs.bias]);
      packA.encode(enc, bufs.a, bufs.sub);
      packB.encode(enc, bufs.b);
      const pass = enc.beginComputePass({ label: "gemm_tex" });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bg);
      pass.dispatchWorkgroups(shapes.groups[0], shapes.groups[1]);
      pass.end();
    },
  };
}

/** Owns one operand texture and fills it from a buffer: a plain copy when possible, else pack_tex.wgsl. */
function createPacker(
  device: GPUDevice,
  shape: { size: number[]; rows: number; cols: number; transpose: boolean; subMode: number },
  label: string,
  owned: { destroy(): void }[],
) {
  const [width, height] = shape.size;
  const texture = device.createTexture({
    label: `gemm ${label}`,
    size: [width, height],
    format: "rgba32float",
    usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_DST,
  });
  owned.push(texture);
  const { pipeline, layout } = cachedPipeline(
    device,
    PACK_SHADER,
    ["read-only-storage", "read-only-storage", "tex-write", "uniform"],
    {},
  );
  const params = paramsBuffer(device, [{ u32: shape.rows }, { u32: shape.cols }, { u32: shape.subMode }, {
    u32: shape.transpose ? 1 : 0,
  }]);
  const srcBytes = shape.rows * shape.cols * 4;
  const subBytes = shape.cols * 4; // subMode 1 only (sub[k] along opA's columns)
  const view = texture.createView();
  const dummy = device.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
  owned.push(params, dummy);
  const group = lastGroupCache(([src, sub]) =>
    device.createBindGroup({
      layout,
      entries: [
        { binding: 0, resource: { buffer: src, size: srcBytes } },
        { binding: 1, resource: shape.subMode ? { buffer: sub, size: subBytes } : { buffer: dummy } },
        { binding: 2, resource: view },
        { binding: 3, resource: { buffer: params } },
      ],
    })
  );
  // A copy leaves the padding as created (zero); it needs 256-byte rows and a COPY_SRC buffer.
  const copyable = shape.subMode === 0 && !shape.transpose && (shape.cols * 4) % 256 === 0;
  return {
    texture,
    encode(enc: GPUCommandEncoder, src: GPUBuffer, sub?: GPUBuffer) {
      if (copyable && (src.usage & GPUBufferUsage.COPY_SRC)) {
        enc.copyBufferToTexture(
          { buffer: src, bytesPerRow: shape.cols * 4, rowsPerImage: shape.rows },
          { texture },
          [shape.cols / 4, shape.rows],
        );
        return;
      }
      const bg = group([src, sub]);
      const pass = enc.beginComputePass({ label: `gemm pack ${label}` });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, bg);
      pass.dispatchWorkgroups(Math.ceil(width / 8), Math.ceil(height / 8));
      pass.end();
    },
  };
}

/** The encoder's buffers: out[M,N] = x[M,K]·W[K,N] + bias[N] (x - sub[K] first with subtractInput). */
export interface EncoderGemmBuffers {
  x: GPUBuffer;
  W: GPUBuffer;
  bias: GPUBuffer;
  /** Unused (may be omitted) with `outTexture`. */
  out?: GPUBuffer;
  sub?: GPUBuffer;
}

export interface EncoderGemm extends Omit<Gemm, "encode"> {
  /** Record the work (its own compute passes) into a command encoder. Buffers: storage, f32 row-major. */
  encode(enc: GPUCommandEncoder, b: EncoderGemmBuffers): void;
}

/** The SAE encoder pre-activation: out = (x - sub)·W + bias; M = tokens, K = d_in, N = d_sae. */
export function createEncoderGemm(
  device: GPUDevice,
  dims: GemmDims,
  opts?: { subtractInput?: boolean; path?: GemmSpec["path"]; outTexture?: RowTexture },
): EncoderGemm {
  const gemm = createGemm(device, { ...dims, bias: true, ...opts });
  return {
    flops: gemm.flops,
    path: gemm.path,
    packedA: gemm.packedA,
    destroy: gemm.destroy,
    encode(enc, b) {
      gemm.encode(enc, { a: b.x, b: b.W, bias: b.bias, sub: b.sub, out: b.out });
    },
  };
}
