/**
 * The slot tables of the trainer's two small GPU buffers, defined once here. WGSL sees them as the
 * constants of ./slots.wgsl (`// @include` it), which is this table rendered by `slotsWgsl()` (a test
 * checks the file is current: regenerate with `deno run kernels/runtime/slots.ts > kernels/runtime/slots.wgsl`);
 * no kernel or host code indexes either buffer with a bare number.
 *
 * `state` (32-bit words, written by kernels, read back only for checkpoints and the BatchTopK threshold):
 *   CLIP       f32  gradient-norm clip factor Adam applies (1 when clipping is off)
 *   GRAD_NORM  f32  ‖g‖ before clipping
 *   N_DEAD     u32  dead latents at the last metrics pass (the AuxK selection size)
 *   BT_*            BatchTopK: boundary key prefix, smallest kept key, threshold EMA (f32 bits), count
 * `hyper` (f32, written by the host every step): Adam's lr, β1, β2, ε and bias corrections
 *   BC1 = 1 − β1^t, BC2 = 1 − β2^t; the sparsity coefficient (l1 or l0, after warmup); the AuxK coefficient.
 */

export const STATE = {
  CLIP: 0,
  GRAD_NORM: 1,
  N_DEAD: 2,
  BT_PREFIX: 3,
  BT_MIN: 5,
  BT_THR: 6,
  BT_COUNT: 7,
} as const;
/** Words in the state buffer (slot 4 is free). */
export const STATE_WORDS = 8;

export const HYPER = {
  LR: 0,
  BETA1: 1,
  BETA2: 2,
  EPS: 3,
  BC1: 4,
  BC2: 5,
  SPARSITY_COEF: 6,
  AUX_COEF: 7,
} as const;
/** Floats in the hyper buffer. */
export const HYPER_WORDS = 8;

/** A full hyper buffer from named values. */
export function hyperArray(values: Record<keyof typeof HYPER, number>): Float32Array {
  const a = new Float32Array(HYPER_WORDS);
  for (const [name, slot] of Object.entries(HYPER)) a[slot] = values[name as keyof typeof HYPER];
  return a;
}

/** The WGSL constants of both tables (the content of ./slots.wgsl). */
export function slotsWgsl(): string {
  const lines = [
    "// Generated from kernels/runtime/slots.ts (the slot tables are defined and documented there);",
    "// regenerate with `deno run kernels/runtime/slots.ts > kernels/runtime/slots.wgsl`.",
  ];
  for (const [table, slots] of [["STATE", STATE], ["HYPER", HYPER]] as const) {
    for (const [name, slot] of Object.entries(slots)) lines.push(`const ${table}_${name}: u32 = ${slot}u;`);
  }
  return lines.join("\n") + "\n";
}

if (import.meta.main) Deno.stdout.writeSync(new TextEncoder().encode(slotsWgsl()));
