/**
 * Which WebGPU adapter the kernels run on, said in one line, and a warning when it is the slow one.
 *
 * Deno's WebGPU (wgpu) tries Vulkan/Metal/DX12 first and falls back to OpenGL only when none of them has
 * a driver. On a Linux machine without a Vulkan driver that fallback is Mesa's OpenGL llvmpipe, whose
 * train stage runs 13-17× slower than Vulkan lavapipe on the same CPU (README, "WebGPU adapter"), and
 * nothing else would tell the user. The adapter's info does not name its
 * backend, so `probeBackend` asks a child Deno restricted to the primary backends
 * (`DENO_WEBGPU_BACKEND`, read by wgpu when the process creates its instance): if that child finds no
 * adapter, or a different one, this process is on OpenGL.
 *
 * `rememberAdapter` is called by kernels/runtime/device.ts when it gets its adapter; `adapterReport()` describes
 * it (probing once per process); the train stage prints it before training.
 */

export const VULKAN_INSTALL = "sudo apt-get install -y mesa-vulkan-drivers";

export interface AdapterReport {
  /** The driver's own name, e.g. "llvmpipe (LLVM 15.0.6, 256 bits)". */
  description: string;
  /** "Vulkan" | "Metal" | "DX12" | "OpenGL" (wgpu's primary backend of this OS, or its GL fallback). */
  backend: string;
  /** A CPU implementation (lavapipe / llvmpipe / WARP / SwiftShader). */
  cpu: boolean;
  /** The one-line warning (with the fix) when this adapter is much slower than the machine allows. */
  warning: string | null;
}

let remembered: GPUAdapter | null = null;
let report: Promise<AdapterReport> | null = null;

/** Called once by getDevice() with the adapter the device comes from. */
export function rememberAdapter(adapter: GPUAdapter): void {
  if (remembered !== adapter) report = null;
  remembered = adapter;
}

/** wgpu's primary backend on this OS (what DENO_WEBGPU_BACKEND calls it, and its name for people). */
function primaryBackend(): [string, string] {
  if (Deno.build.os === "darwin") return ["metal", "Metal"];
  if (Deno.build.os === "windows") return ["dx12,vulkan", "DX12"];
  return ["vulkan", "Vulkan"];
}

const PROBE = `const a = await navigator.gpu.requestAdapter({ powerPreference: "high-performance" });
console.log(JSON.stringify(a ? a.info.description : null));`;

/**
 * The description of the adapter a process restricted to `backends` gets (null: none), from a child
 * `deno eval` (one wgpu instance per process, so this process cannot ask twice). `env` adds to the
 * child's environment (tests point the Vulkan loader elsewhere with it).
 */
export async function probeAdapter(backends: string, env: Record<string, string> = {}): Promise<string | null> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", PROBE],
    env: { ...env, DENO_WEBGPU_BACKEND: backends },
    stdout: "piped",
    stderr: "null",
  }).output();
  if (!out.success) return null;
  try {
    return JSON.parse(new TextDecoder().decode(out.stdout).trim().split("\n").pop() ?? "null");
  } catch {
    return null;
  }
}

const isCpuName = (d: string) => /llvmpipe|lavapipe|swiftshader|warp|software/i.test(d);

/** The backend this process's adapter runs on, judged from a probe of the primary backends. */
export async function describeAdapter(adapter: GPUAdapter): Promise<AdapterReport> {
  const description = adapter.info.description || adapter.info.vendor || "unknown adapter";
  const [backends, primary] = primaryBackend();
  const forced = Deno.env.get("DENO_WEBGPU_BACKEND");
  // A user who chose backends knows which; otherwise a primary-only process must see the same adapter.
  const onPrimary = forced !== undefined
    ? !/^\s*(gl|gles|opengl)\s*$/i.test(forced)
    : (await probeAdapter(backends)) === adapter.info.description;
  const backend = onPrimary ? primary : "OpenGL";
  const cpu = isCpuName(description) || adapter.info.isFallbackAdapter === true;
  let warning: string | null = null;
  if (!onPrimary && cpu) {
    warning = `no ${primary} driver found: WebGPU fell back to OpenGL ${description.split(" ")[0]}, ` +
      `which trains ~13-17x slower than ${primary === "Vulkan" ? "Vulkan lavapipe" : primary}` +
      (Deno.build.os === "linux" ? `; install the driver: ${VULKAN_INSTALL}` : "");
  } else if (!onPrimary) {
    warning = `WebGPU runs on OpenGL (no ${primary} driver found); ${primary} is usually faster` +
      (Deno.build.os === "linux" ? ` (${VULKAN_INSTALL}, or the GPU vendor's Vulkan driver)` : "");
  }
  return { description, backend, cpu, warning };
}

/** The report of the adapter getDevice() used (probed once per process); null before any device. */
export function adapterReport(): Promise<AdapterReport> | null {
  if (!remembered) return null;
  report ??= describeAdapter(remembered);
  return report;
}

/** "WebGPU adapter: <description> via <backend> (on the CPU)": the line every training run prints. */
export function adapterLine(r: AdapterReport): string {
  return `WebGPU adapter: ${r.description} via ${r.backend}${r.cpu ? " (on the CPU)" : ""}`;
}
