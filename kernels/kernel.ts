/**
 * The shape every kernel wrapper shares: compile a `.wgsl` entry point with its `override` constants,
 * bind buffers once (the trainer's buffers live for the whole run) and record dispatches.
 */
import { bindBuffers, createPipeline, dispatch, grid2d, loadShader } from "./device.ts";

/** A kernel bound to its buffers: records one dispatch per `encode`. */
export interface BoundKernel {
  encode(enc: GPUCommandEncoder): void;
  label?: string;
}

/** A compiled entry point: `bind(buffers, workgroups)` fixes the buffers and the launch size. */
export interface Kernel {
  pipeline: GPUComputePipeline;
  bind(buffers: (GPUBuffer | undefined)[], workgroups: number | [number, number]): BoundKernel;
}

export async function compileKernel(
  device: GPUDevice,
  url: URL,
  entry: string,
  constants: Record<string, number | boolean>,
): Promise<Kernel> {
  const module = await loadShader(device, url);
  const c: Record<string, number> = {};
  for (const [k, v] of Object.entries(constants)) c[k] = typeof v === "boolean" ? (v ? 1 : 0) : v;
  const pipeline = await createPipeline(device, module, entry, c);
  return {
    pipeline,
    bind(buffers, workgroups) {
      const group = bindBuffers(device, pipeline, buffers);
      const [x, y] = typeof workgroups === "number" ? grid2d(device, workgroups) : workgroups;
      const label = `${url.pathname.split("/").pop()}:${entry}`;
      return { label, encode: (enc) => dispatch(enc, pipeline, group, x, y) };
    },
  };
}

/** Workgroups of `size` invocations covering `n` items. */
export const groupsFor = (n: number, size: number): number => Math.max(1, Math.ceil(n / size));

/** The u32 marking an unused sparse slot. */
export const INVALID = 0xffffffff;
