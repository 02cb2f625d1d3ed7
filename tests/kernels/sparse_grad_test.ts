/** Per-entry sparse gradient (texture and buffer paths) against the float64 reference. */
import { assert } from "../assert.ts";
import { getDevice, readF32, uploadBuffer } from "../../kernels/runtime/device.ts";
import { createSparseGrad, sparseGradReference } from "../../kernels/sparse/mod.ts";
import { Rng } from "../../stages/train/rng.ts";
import { dvecRows, type LevelRows } from "../../kernels/sparse/mod.ts";
import { randomEntries } from "./entries.ts";
import { STATE, STATE_WORDS } from "../../kernels/runtime/slots.ts";

const SENTINEL = 12345;

async function check(
  path: "texture" | "buffer",
  B: number,
  D: number,
  S: number,
  cap: number,
  auxCap: number,
  levels?: LevelRows,
) {
  const device = await getDevice();
  const r = new Rng(B + D + S + cap + auxCap, 13);
  const main = randomEntries(r, B, S, cap);
  const aux = randomEntries(r, B, S, auxCap);
  const idx = new Uint32Array([...main.idx, ...aux.idx]);
  const dvec = new Float32Array(dvecRows({ B, auxCap, levels }) * D).map(() => r.normal());
  const W = new Float32Array(S * D).map(() => r.normal());
  const nDead = Math.max(0, auxCap - 2); // AuxK slots ≥ n_dead are skipped
  const state = new Uint32Array(STATE_WORDS);
  state[STATE.N_DEAD] = nDead;
  const b = {
    idx: uploadBuffer(device, idx),
    dvec: uploadBuffer(device, dvec),
    W_dec: uploadBuffer(device, W),
    g: uploadBuffer(device, new Float32Array(idx.length).fill(SENTINEL)),
    state: uploadBuffer(device, state),
  };
  const k = (await createSparseGrad(device, { B, D, cap, auxCap, auxBound: true, path, levels }))(b);
  const enc = device.createCommandEncoder();
  k.encode(enc);
  device.queue.submit([enc.finish()]);
  const got = await readF32(device, b.g, idx.length);
  const ref = sparseGradReference(idx, dvec, W, { B, D, cap, auxCap, levels });
  let worst = 0;
  for (let e = 0; e < ref.length; e++) {
    const skipped = e >= B * cap && (e - B * cap) % auxCap >= nDead;
    const want = skipped ? SENTINEL : ref[e];
    // A sum of D unit-scale products has magnitude ~√D: f32 rounding is relative to that.
    worst = Math.max(worst, Math.abs(got[e] - want) / (Math.sqrt(D) + Math.abs(want)));
  }
  assert(worst < 1e-5, `${path} D ${D} S ${S} k ${cap}+${auxCap} levels ${levels?.widths}: worst error ${worst}`);
  Object.values(b).forEach((x) => x.destroy());
}

for (const path of ["texture", "buffer"] as const) {
  for (const [B, D, S, cap, auxCap] of [[37, 48, 100, 7, 11], [65, 512, 4096, 33, 0], [29, 52, 300, 5, 4]]) {
    Deno.test(`sparse_grad ${path} d_in ${D} d_sae ${S} k ${cap} aux ${auxCap} matches float64`, async () => {
      await check(path, B, D, S, cap, auxCap);
    });
  }
}

// Matryoshka: main entries read their prefix group's gradient rows (with and without AuxK rows before them).
for (const path of ["texture", "buffer"] as const) {
  for (
    const [B, D, S, cap, auxCap, widths] of [[37, 48, 100, 7, 11, [10, 40]], [29, 52, 300, 5, 0, [
      20,
      60,
      150,
    ]]] as const
  ) {
    Deno.test(`sparse_grad ${path} Matryoshka levels ${widths} d_sae ${S} aux ${auxCap} matches float64`, async () => {
      await check(path, B, D, S, cap, auxCap, { widths: [...widths], innerBase: auxCap ? 2 : 1 });
    });
  }
}
