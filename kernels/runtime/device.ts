/**
 * WebGPU device acquisition and small buffer helpers shared by every kernel wrapper (compiling and
 * binding: ./compile.ts, ./kernel.ts).
 *
 * `getDevice()` requests the adapter once, asks for the largest storage-binding and buffer limits the
 * adapter offers (lavapipe: 128 MiB per binding) and caches the device. Without an adapter it throws a
 * one-line error naming the fix (`apt-get install -y mesa-vulkan-drivers`).
 */

import { checkBinding } from "./bindings.ts";
import { rememberAdapter } from "./adapter_report.ts";

let cached: Promise<GPUDevice> | null = null;

/** Storage buffers one kernel may bind (our widest kernel binds ~10). */
const WANT_STORAGE_BUFFERS = 10;

/** The shared GPUDevice (requested once per process). */
export function getDevice(): Promise<GPUDevice> {
  if (!cached) {
    cached = requestDevice();
    cached.catch(() => (cached = null)); // the next call retries; this call's callers still get the rejection
  }
  return cached;
}

async function requestDevice(): Promise<GPUDevice> {
  if (typeof navigator === "undefined" || !("gpu" in navigator) || !navigator.gpu) {
    throw new Error(
      "WebGPU is not available in this runtime (run with `deno run -A`; on Linux install a Vulkan driver: apt-get install -y mesa-vulkan-drivers)",
    );
  }
  // Vulkan's loader prints "XDG_RUNTIME_DIR is invalid" on every start without one (headless machines, CI)
  if (!Deno.env.get("XDG_RUNTIME_DIR")) {
    const dir = `${Deno.env.get("TMPDIR") ?? "/tmp"}/sae-xdg-runtime-${Deno.uid() ?? 0}`;
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    Deno.env.set("XDG_RUNTIME_DIR", dir);
  }
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
  if (!adapter) {
    throw new Error(
      "no WebGPU adapter found (on Linux install a Vulkan driver: apt-get install -y mesa-vulkan-drivers)",
    );
  }
  rememberAdapter(adapter); // for the one-line adapter report (kernels/runtime/adapter_report.ts)
  const l = adapter.limits;
  if (l.maxStorageBuffersPerShaderStage < WANT_STORAGE_BUFFERS) {
    throw new Error(
      `WebGPU adapter allows ${l.maxStorageBuffersPerShaderStage} storage buffers per shader stage; the kernels need ${WANT_STORAGE_BUFFERS}`,
    );
  }
  const device = await adapter.requestDevice({
    requiredLimits: {
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
      maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
      maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
      maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      maxComputeWorkgroupsPerDimension: l.maxComputeWorkgroupsPerDimension,
    },
  });
  // Copied now: reading device.adapterInfo once the adapter object is collected panics Deno 2.9 (wgpu).
  const info = adapter.info;
  fallbackAdapters.set(device, info.isFallbackAdapter);
  device.lost.then((info) => {
    cached = null;
    if (info.reason !== "destroyed") console.error(`WebGPU device lost: ${info.message}`);
  });
  return device;
}

const fallbackAdapters = new WeakMap<GPUDevice, boolean>();

/** Whether `device` came from a fallback (CPU) adapter, whose memory is the host's (false if unknown). */
export function isFallbackDevice(device: GPUDevice): boolean {
  return fallbackAdapters.get(device) ?? false;
}

export const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** A storage buffer of `bytes` (rounded up to 16, min 16), zero-filled, checked against the binding limit. */
export function createBuffer(device: GPUDevice, bytes: number, label = "buffer", usage = STORAGE): GPUBuffer {
  checkBinding(device, bytes, label);
  return device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 16) * 16), usage, label });
}

/** A storage buffer holding a copy of `data`. */
export function uploadBuffer(
  device: GPUDevice,
  data: Float32Array | Uint32Array | Int32Array,
  label = "buffer",
  usage = STORAGE,
): GPUBuffer {
  const buf = createBuffer(device, data.byteLength, label, usage);
  writeBuffer(device, buf, data);
  return buf;
}

/** queue.writeBuffer of a typed array (in order with later submits). */
export function writeBuffer(
  device: GPUDevice,
  buf: GPUBuffer,
  data: Float32Array | Uint32Array | Int32Array,
  byteOffset = 0,
): void {
  if (data.byteLength === 0) return;
  device.queue.writeBuffer(buf, byteOffset, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
}

/** Copy `bytes` of `buf` (from `offset`) back to the host after all submitted work. */
export async function readBuffer(
  device: GPUDevice,
  buf: GPUBuffer,
  bytes = buf.size,
  offset = 0,
): Promise<ArrayBuffer> {
  const size = Math.ceil(bytes / 4) * 4;
  const staging = device.createBuffer({ size, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(buf, offset, staging, 0, size);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = staging.getMappedRange().slice(0, bytes);
  staging.unmap();
  staging.destroy();
  return out;
}

/**
 * Copy several buffer ranges back to the host with one staging buffer and one map per ≤ 256 MiB batch
 * (each map waits ≥ 10 ms for Deno's completion polling, so many small reads add up).
 */
export async function readBuffers(
  device: GPUDevice,
  parts: { buf: GPUBuffer; bytes?: number; offset?: number }[],
): Promise<ArrayBuffer[]> {
  const limit = Math.min(device.limits.maxBufferSize, 256 * 2 ** 20);
  const sizes = parts.map((p) => Math.ceil((p.bytes ?? p.buf.size) / 4) * 4);
  const out: ArrayBuffer[] = [];
  for (let first = 0; first < parts.length;) {
    let last = first;
    let total = sizes[first];
    while (last + 1 < parts.length && total + sizes[last + 1] <= limit) total += sizes[++last];
    const staging = device.createBuffer({ size: total, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
    const enc = device.createCommandEncoder();
    let at = 0;
    for (let i = first; i <= last; i++) {
      enc.copyBufferToBuffer(parts[i].buf, parts[i].offset ?? 0, staging, at, sizes[i]);
      at += sizes[i];
    }
    device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const all = staging.getMappedRange();
    at = 0;
    for (let i = first; i <= last; i++) {
      out.push(all.slice(at, at + (parts[i].bytes ?? parts[i].buf.size)));
      at += sizes[i];
    }
    staging.unmap();
    staging.destroy();
    first = last + 1;
  }
  return out;
}

/** Read `count` f32 values of `buf`. */
export async function readF32(device: GPUDevice, buf: GPUBuffer, count: number, offset = 0): Promise<Float32Array> {
  return new Float32Array(await readBuffer(device, buf, count * 4, offset));
}

/** Read `count` u32 values of `buf`. */
export async function readU32(device: GPUDevice, buf: GPUBuffer, count: number, offset = 0): Promise<Uint32Array> {
  return new Uint32Array(await readBuffer(device, buf, count * 4, offset));
}

/** Split `n` workgroups into (x, y) within maxComputeWorkgroupsPerDimension; kernels use wid.x + wid.y * nx. */
export function grid2d(device: GPUDevice, n: number): [number, number] {
  const max = device.limits.maxComputeWorkgroupsPerDimension;
  if (n <= max) return [Math.max(1, n), 1];
  const y = Math.ceil(n / max);
  return [Math.ceil(n / y), y];
}
