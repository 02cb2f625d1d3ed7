/**
 * The shape every kernel wrapper shares: compile an entry point with its `override` constants
 * (./compile.ts), bind resources by name once (the trainer's buffers live for the whole run) and record
 * dispatches.
 *
 *   const k = await compileKernel(device, new URL("./center.wgsl", import.meta.url), "main", { D, N });
 *   const run = k.bind({ x, b_dec, xc }, groupsFor(n, 256));   // names as in the shader's @binding vars
 *   run.encode(commandEncoder);
 */
import { bindEntries, type Resources } from "./bindings.ts";
import { compileShader, type Constants, pipeline, type Shader } from "./compile.ts";
import { grid2d } from "./device.ts";

/** A kernel bound to its resources: records one dispatch (or a few) per `encode`. */
export interface BoundKernel {
  encode(enc: GPUCommandEncoder): void;
  label?: string;
}

/** An entry point with its constants: `bind(resources, workgroups)` fixes resources and launch size. */
export interface Kernel {
  readonly pipeline: GPUComputePipeline;
  readonly label: string;
  bind(resources: Resources, workgroups: number | [number, number]): BoundKernel;
}

/** Entry `entry` of an already compiled shader (for constants known only at bind time, e.g. a FOLD). */
export function kernelOf(device: GPUDevice, s: Shader, entry: string, constants: Constants = {}): Kernel {
  const { pipeline: p } = pipeline(device, s, entry, constants);
  const label = `${s.label}:${entry}`;
  return {
    pipeline: p,
    label,
    bind(resources, workgroups) {
      const entries = bindEntries(device, s.bindings, entry, resources);
      const group = device.createBindGroup({ layout: p.getBindGroupLayout(0), entries, label });
      const [x, y] = typeof workgroups === "number" ? grid2d(device, workgroups) : workgroups;
      return {
        label,
        encode(enc) {
          const pass = enc.beginComputePass({ label });
          pass.setPipeline(p);
          pass.setBindGroup(0, group);
          pass.dispatchWorkgroups(x, y);
          pass.end();
        },
      };
    },
  };
}

/** Compile `url` (template `params`) and entry `entry` with `constants`; errors throw here. */
export async function compileKernel(
  device: GPUDevice,
  url: URL,
  entry: string,
  constants: Constants = {},
  params: Record<string, number> = {},
): Promise<Kernel> {
  const s = await compileShader(device, url, params);
  await pipeline(device, s, entry, constants).created;
  return kernelOf(device, s, entry, constants);
}

/** Workgroups of `size` invocations covering `n` items. */
export const groupsFor = (n: number, size: number): number => Math.max(1, Math.ceil(n / size));

/** The u32 marking an unused sparse slot. */
export const INVALID = 0xffffffff;
