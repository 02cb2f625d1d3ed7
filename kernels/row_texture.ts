/**
 * Row-major f32 matrices mirrored into rgba32float storage textures, and templated kernels reading them.
 *
 * Why: on lavapipe a storage-buffer load is a per-lane scalar loop, while a texel read moves 4 floats
 * per lane in one gather (see kernels/gemm/gemm_tex.wgsl): the sparse kernels gather rows of W_dec,
 * dvec, xc and pre through these textures. On GPUs texel reads are cached and fast as well.
 *
 * Layout: logical row r, texel q (floats 4q..4q+3) sits at (x, y) = ((r % fold)·qw + q, r / fold),
 * qw = cols / 4. `fold` rows share one texture row so that a row of bytes is a multiple of 256 (the
 * buffer→texture copy rule) and the height stays within maxTextureDimension2D; the copy is then a plain
 * reshape of the buffer. WGSL side (each shader repeats it, WGSL has no includes):
 *   fn texel(r: u32, q: u32) -> vec2<u32> { return vec2<u32>((r % FOLD) * QW + q, r / FOLD); }
 */
import { readWgsl } from "./wgsl_source.ts";
import { expandTemplate } from "./gemm/unroll.ts";
import { grid2d } from "./device.ts";
import type { BoundKernel } from "./kernel.ts";

/** True when this device can read rows of `cols` floats through row textures (cols % 4 == 0). */
export function rowTexturesAvailable(device: GPUDevice, cols: number): boolean {
  const features = (navigator.gpu as { wgslLanguageFeatures?: ReadonlySet<string> }).wgslLanguageFeatures;
  if (!features?.has("readonly_and_readwrite_storage_textures")) return false;
  return cols % 4 === 0 && cols > 0 && rowFold(cols) * (cols / 4) <= device.limits.maxTextureDimension2D;
}

/** Rows per texture row so that fold·cols·4 bytes is a multiple of 256. */
function rowFold(cols: number): number {
  let f = 1;
  while ((f * cols * 4) % 256 !== 0) f *= 2;
  return f;
}

/** A texture mirroring `rows × cols` f32 of a buffer; `encodeCopy` refreshes it (needs COPY_SRC usage). */
export interface RowTexture {
  readonly rows: number;
  readonly cols: number;
  /** Logical rows per texture row. */
  readonly fold: number;
  /** Texels per logical row (cols / 4). */
  readonly qw: number;
  readonly view: GPUTextureView;
  encodeCopy(enc: GPUCommandEncoder, src: GPUBuffer): void;
  destroy(): void;
}

export function createRowTexture(device: GPUDevice, rows: number, cols: number, label: string): RowTexture {
  if (!rowTexturesAvailable(device, cols)) throw new Error(`row texture ${label}: unavailable for ${cols} columns`);
  const max = device.limits.maxTextureDimension2D;
  const qw = cols / 4;
  let fold = rowFold(cols);
  while (Math.ceil(rows / fold) > max && 2 * fold * qw <= max) fold *= 2;
  const height = Math.ceil(rows / fold);
  if (height > max) {
    throw new Error(`row texture ${label}: ${rows} × ${cols} does not fit maxTextureDimension2D ${max}`);
  }
  const texture = device.createTexture({
    label,
    size: [fold * qw, Math.max(1, height)],
    format: "rgba32float",
    usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.COPY_DST,
  });
  const full = Math.floor(rows / fold);
  const rest = rows % fold;
  const rowBytes = fold * cols * 4;
  return {
    rows,
    cols,
    fold,
    qw,
    view: texture.createView(),
    encodeCopy(enc, src) {
      if (full > 0) enc.copyBufferToTexture({ buffer: src, bytesPerRow: rowBytes }, { texture }, [fold * qw, full]);
      if (rest > 0) {
        enc.copyBufferToTexture({ buffer: src, offset: full * rowBytes, bytesPerRow: rowBytes }, {
          texture,
          origin: [0, full],
        }, [rest * qw, 1]);
      }
    },
    destroy: () => texture.destroy(),
  };
}

const moduleCache = new WeakMap<GPUDevice, Map<string, GPUShaderModule>>();

/**
 * Compile a WGSL template (`// @unroll` blocks and `$(expr)` from kernels/gemm/unroll.ts, params
 * `template`); modules are cached per (device, file, template). Compile errors become one clear Error.
 */
export async function compileTemplate(
  device: GPUDevice,
  url: URL,
  template: Record<string, number> = {},
): Promise<GPUShaderModule> {
  let cache = moduleCache.get(device);
  if (!cache) moduleCache.set(device, cache = new Map());
  const key = url.href + JSON.stringify(template);
  const hit = cache.get(key);
  if (hit) return hit;
  const code = expandTemplate(readWgsl(url), template);
  const module = device.createShaderModule({ code, label: url.pathname.split("/").pop() });
  const errors = (await module.getCompilationInfo()).messages.filter((m) => m.type === "error");
  if (errors.length) {
    throw new Error(
      `WGSL error in ${url.pathname}: ${errors.map((e) => `${e.lineNum}:${e.linePos} ${e.message}`).join("; ")}`,
    );
  }
  cache.set(key, module);
  return module;
}

/**
 * Bind entry `entry` of `module` with `override` constants to resources (buffers or texture views, in
 * binding order; `undefined` skips one) and a launch size; the pipeline is created here (synchronously).
 */
export function bindModule(
  device: GPUDevice,
  module: GPUShaderModule,
  entry: string,
  constants: Record<string, number | boolean>,
  resources: (GPUBuffer | GPUTextureView | undefined)[],
  workgroups: number | [number, number],
): BoundKernel {
  const c: Record<string, number> = {};
  for (const [k, v] of Object.entries(constants)) c[k] = typeof v === "boolean" ? (v ? 1 : 0) : v;
  const label = `${module.label}:${entry}`;
  const pipeline = device.createComputePipeline({
    layout: "auto",
    compute: { module, entryPoint: entry, constants: c },
    label,
  });
  const entries: GPUBindGroupEntry[] = [];
  resources.forEach((r, binding) => {
    if (r) entries.push({ binding, resource: r instanceof GPUBuffer ? { buffer: r } : r });
  });
  const group = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries, label });
  const [x, y] = typeof workgroups === "number" ? grid2d(device, workgroups) : workgroups;
  return {
    label,
    encode(enc) {
      const pass = enc.beginComputePass({ label });
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, group);
      pass.dispatchWorkgroups(x, y);
      pass.end();
    },
  };
}
