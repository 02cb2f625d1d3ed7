/**
 * The one compile path for every kernel: a `.wgsl` file (includes and template expanded,
 * ./wgsl_source.ts) becomes a shader module with its binding table (./bindings.ts), cached per
 * (device, file, template); an entry point with its `override` constants becomes a compute pipeline,
 * cached per (shader, entry, constants) — compiling an unrolled GEMM takes ~0.3 s on lavapipe, and the
 * trainer builds the same pipeline many times. Compile and pipeline errors become one Error naming the
 * file: awaited by `compileShader`/`compileKernel`, and an unhandled rejection (which stops the process
 * with that message) for the synchronous callers (createGemm must stay synchronous).
 */
import { type BindingTable, parseBindings } from "./bindings.ts";
import { shaderSource } from "./wgsl_source.ts";

export interface Shader {
  readonly module: GPUShaderModule;
  readonly bindings: BindingTable;
  /** The file name (pipelines and passes are labelled `file:entry`). */
  readonly label: string;
  /** Cache key: file URL and template parameters. */
  readonly key: string;
  /** Resolves once the compiler reported no error; rejects with the WGSL error otherwise. */
  readonly compiled: Promise<void>;
}

export type Constants = Record<string, number | boolean>;

interface DeviceCache {
  shaders: Map<string, Shader>;
  pipelines: Map<string, { pipeline: GPUComputePipeline; created: Promise<void> }>;
}
const caches = new WeakMap<GPUDevice, DeviceCache>();

function cacheOf(device: GPUDevice): DeviceCache {
  let c = caches.get(device);
  if (!c) caches.set(device, c = { shaders: new Map(), pipelines: new Map() });
  return c;
}

/** The shader of `url` with template `params` (created now, cached; see `compiled` for errors). */
export function shader(device: GPUDevice, url: URL, params: Record<string, number> = {}): Shader {
  const cache = cacheOf(device).shaders;
  const key = url.href + JSON.stringify(params);
  const hit = cache.get(key);
  if (hit) return hit;
  const file = url.pathname.split("/").pop()!;
  const code = shaderSource(url, params);
  const module = device.createShaderModule({ code, label: file });
  const compiled = module.getCompilationInfo().then((info) => {
    const errors = info.messages.filter((m) => m.type === "error");
    if (errors.length) {
      cache.delete(key);
      throw new Error(
        `WGSL error in ${url.pathname}: ${errors.map((e) => `${e.lineNum}:${e.linePos} ${e.message}`).join("; ")}`,
      );
    }
  });
  const s: Shader = { module, bindings: parseBindings(code, file), label: file, key, compiled };
  cache.set(key, s);
  return s;
}

/** `shader`, waiting for the compiler: a WGSL error throws here. */
export async function compileShader(device: GPUDevice, url: URL, params: Record<string, number> = {}) {
  const s = shader(device, url, params);
  await s.compiled;
  return s;
}

/** WGSL overrides are numbers: booleans become 1 / 0. */
function numeric(constants: Constants): Record<string, number> {
  const c: Record<string, number> = {};
  for (const [k, v] of Object.entries(constants)) c[k] = typeof v === "boolean" ? (v ? 1 : 0) : v;
  return c;
}

/**
 * The compute pipeline of `entry` with `constants` (layout "auto", cached). `created` rejects with a
 * clear message when the device refused it (a missing or unknown override, an over-limit workgroup).
 */
export function pipeline(
  device: GPUDevice,
  s: Shader,
  entry: string,
  constants: Constants = {},
): { pipeline: GPUComputePipeline; created: Promise<void> } {
  const cache = cacheOf(device).pipelines;
  const c = numeric(constants);
  const key = `${s.key}:${entry}${JSON.stringify(c)}`;
  const hit = cache.get(key);
  if (hit) return hit;
  device.pushErrorScope("validation");
  const p = device.createComputePipeline({
    layout: "auto",
    compute: { module: s.module, entryPoint: entry, constants: c },
    label: `${s.label}:${entry}`,
  });
  const created = device.popErrorScope().then((err) => {
    if (err) {
      cache.delete(key);
      throw new Error(`pipeline ${s.label}:${entry}: ${err.message}`);
    }
  });
  const out = { pipeline: p, created };
  cache.set(key, out);
  return out;
}
