/**
 * The texture GEMM's register tile (R rows × 4·CQ columns per invocation) and workgroup shape, chosen from
 * the device, so the same gemm_tex.wgsl template suits both kinds of adapter:
 * - CPU adapters (lavapipe: an invocation is a SIMD lane, every per-lane load a gather costing ~26 FMAs, see
 *   bench/device_probe_bench.ts): a large 16 × 16 tile per invocation in an 8 × 2 workgroup, the fastest of
 *   the tiles measured there (README, Benchmarks).
 * - GPUs: 4 × 4 per invocation in a 16 × 16 workgroup (a 64 × 64 output block, 256 invocations: whole
 *   warps / waves, few registers per invocation, operand reads served by the texture cache), halved along y
 *   until it fits maxComputeInvocationsPerWorkgroup and maxComputeWorkgroupSizeX/Y.
 */
import { isFallbackDevice } from "../runtime/device.ts";

export interface GemmTile {
  /** Output rows per invocation. */
  R: number;
  /** Output texels (4 columns each) per invocation. */
  CQ: number;
  WG_X: number;
  WG_Y: number;
}

export const CPU_TILE: GemmTile = { R: 16, CQ: 4, WG_X: 8, WG_Y: 2 };
export const GPU_TILE: GemmTile = { R: 4, CQ: 1, WG_X: 16, WG_Y: 16 };

/** The tile for `device` (a device from kernels/runtime/device.ts getDevice is known to be a CPU or not). */
export function gemmTile(device: GPUDevice): GemmTile {
  return isFallbackDevice(device) ? CPU_TILE : fitTile(device, GPU_TILE);
}

/** `tile` with its workgroup shrunk (y first, then x) until the device's limits allow it. */
export function fitTile(device: GPUDevice, tile: GemmTile): GemmTile {
  const l = device.limits;
  let { WG_X, WG_Y } = tile;
  while (WG_Y > 1 && (WG_X * WG_Y > l.maxComputeInvocationsPerWorkgroup || WG_Y > l.maxComputeWorkgroupSizeY)) {
    WG_Y /= 2;
  }
  while (WG_X > 1 && (WG_X * WG_Y > l.maxComputeInvocationsPerWorkgroup || WG_X > l.maxComputeWorkgroupSizeX)) {
    WG_X /= 2;
  }
  return { ...tile, WG_X, WG_Y };
}

/** Output rows × columns one workgroup computes. */
export function tileBlock(t: GemmTile): { M: number; N: number } {
  return { M: t.R * t.WG_Y, N: 4 * t.CQ * t.WG_X };
}
