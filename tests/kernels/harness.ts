/** Shared pieces of the kernel tests: random inputs, running bound kernels, float32-tolerance checks. */
import type { Range } from "../../stages/train/slab_plan.ts";
import { assert } from "../assert.ts";
import type { BoundKernel } from "../../kernels/runtime/kernel.ts";
import type { Rng } from "../../stages/train/rng.ts";
import { HYPER, hyperArray, STATE, STATE_WORDS } from "../../kernels/runtime/slots.ts";

/** n values scale·N(0, 1) + shift (never exactly zero in practice). */
export function randn(r: Rng, n: number, scale = 1, shift = 0): Float32Array {
  return new Float32Array(n).map(() => shift + scale * r.normal());
}

/** Record `kernels` into one command buffer, submit, wait. */
export async function run(device: GPUDevice, ...kernels: BoundKernel[]): Promise<void> {
  const enc = device.createCommandEncoder();
  for (const k of kernels) k.encode(enc);
  device.queue.submit([enc.finish()]);
  await device.queue.onSubmittedWorkDone();
}

/**
 * Elementwise |got − want| ≤ atol + rtol·|want| (float32 against float64), and at least `nonzero`
 * of the reference entries are non-zero (the check is not vacuous). `atol` should scale with the
 * magnitude of the summed terms.
 */
export function assertClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  what: string,
  tol: { rtol?: number; atol?: number; nonzero?: number } = {},
): void {
  const rtol = tol.rtol ?? 1e-5;
  const atol = tol.atol ?? 1e-6;
  assert(got.length >= want.length, `${what}: ${got.length} values, expected ${want.length}`);
  let nonzero = 0;
  for (let j = 0; j < want.length; j++) {
    if (want[j] !== 0) nonzero++;
    const err = Math.abs(got[j] - want[j]);
    if (!(err <= atol + rtol * Math.abs(want[j]))) {
      throw new Error(`${what}[${j}]: got ${got[j]}, want ${want[j]} (error ${err.toExponential(2)})`);
    }
  }
  const min = tol.nonzero ?? 0.5;
  assert(nonzero >= min * want.length, `${what}: only ${nonzero}/${want.length} reference values are non-zero`);
}

/** A hyper buffer's contents with the named slots set, the others 0. */
export function hyperWith(values: Partial<Record<keyof typeof HYPER, number>>): Float32Array {
  const all = Object.fromEntries(Object.keys(HYPER).map((k) => [k, 0])) as Record<keyof typeof HYPER, number>;
  return hyperArray({ ...all, ...values });
}

/** The hyper values of Adam step `step` (1-based: bias corrections 1 − β^step). */
export function adamHyper(h: { lr: number; b1: number; b2: number; eps: number }, step: number): Float32Array {
  return hyperWith({ LR: h.lr, BETA1: h.b1, BETA2: h.b2, EPS: h.eps, BC1: 1 - h.b1 ** step, BC2: 1 - h.b2 ** step });
}

/** A state buffer's contents (f32 view) with the named slots set, the others 0. */
export function stateWith(values: Partial<Record<keyof typeof STATE, number>>): Float32Array {
  const a = new Float32Array(STATE_WORDS);
  for (const [k, v] of Object.entries(values)) a[STATE[k as keyof typeof STATE]] = v;
  return a;
}

/** Rows × latents [c, s] of `a` [·, S] (row offset `row0`) as a [c.size, s.size] array, and back. */
export const tileOf = (a: Float32Array, S: number, row0: number, c: Range, s: Range) =>
  Float32Array.from(
    { length: c.size * s.size },
    (_, j) => a[(row0 + c.start + Math.floor(j / s.size)) * S + s.start + (j % s.size)],
  );
export function untile(out: Float32Array, part: Float32Array, S: number, row0: number, c: Range, s: Range) {
  part.forEach((v, j) => out[(row0 + c.start + Math.floor(j / s.size)) * S + s.start + (j % s.size)] = v);
}
