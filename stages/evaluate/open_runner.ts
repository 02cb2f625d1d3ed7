/**
 * Picks the SAE encoder for evaluation: the WebGPU kernels (gpu_runner.ts) when asked for, or on
 * "auto" when a WebGPU adapter exists; else the float64 CPU reference (exact, slow).
 */
import type { SaeConfig, SaeWeights } from "../train/sae_cpu.ts";
import { gpuRunner } from "./gpu_runner.ts";
import { cpuRunner, type SaeRunner } from "./sae_runner.ts";

export async function openRunner(
  weights: SaeWeights,
  cfg: SaeConfig,
  backend: "auto" | "webgpu" | "cpu",
  maxRows: number,
  log: (msg: string) => void = () => {},
): Promise<SaeRunner & { name: string }> {
  if (backend !== "cpu") {
    try {
      return { ...(await gpuRunner(weights, cfg, maxRows)), name: "webgpu" };
    } catch (e) {
      if (backend === "webgpu") throw e;
      log(`WebGPU unavailable (${(e as Error).message}); using the CPU reference encoder`);
    }
  }
  return { ...cpuRunner(weights, cfg), name: "cpu-f64" };
}
