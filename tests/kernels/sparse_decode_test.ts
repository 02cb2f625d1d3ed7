/** Sparse decode (texture and buffer paths) against its float64 reference, on and off the tile sizes. */
import { assert, assertEquals } from "../assert.ts";
import { createBuffer, getDevice, readF32, uploadBuffer } from "../../kernels/runtime/device.ts";
import { createSparseDecode, sparseDecodeReference } from "../../kernels/sparse/mod.ts";
import { Rng } from "../../stages/train/rng.ts";
import { randomEntries } from "./entries.ts";
import { STATE, STATE_WORDS } from "../../kernels/runtime/slots.ts";

const INVALID = 0xffffffff;
async function decode(
  path: "texture" | "buffer",
  rows: number,
  D: number,
  S: number,
  cap: number,
  opts: { bias: boolean; nDead?: number; idxLimit?: number; outRowBase?: number },
) {
  const device = await getDevice();
  const r = new Rng(rows * D + S + cap, 7);
  const { idx, val } = randomEntries(r, rows, S, cap);
  const W = new Float32Array(S * D).map(() => r.normal());
  const bDec = new Float32Array(D).map(() => r.normal());
  const state = new Uint32Array(STATE_WORDS);
  state[STATE.N_DEAD] = opts.nDead ?? 0;
  const b = {
    idx: uploadBuffer(device, idx),
    val: uploadBuffer(device, val),
    W_dec: uploadBuffer(device, W),
    b_dec: uploadBuffer(device, bDec),
    out: createBuffer(device, (rows + (opts.outRowBase ?? 0)) * D * 4),
    rowstats: createBuffer(device, rows * 8 * 4),
    state: uploadBuffer(device, state),
  };
  const auxBound = opts.nDead !== undefined;
  const { idxLimit, outRowBase } = opts;
  const k = (await createSparseDecode(device, { rows, D, cap, bias: opts.bias, path, auxBound, idxLimit, outRowBase }))(
    b,
  );
  const enc = device.createCommandEncoder();
  k.encode(enc);
  device.queue.submit([enc.finish()]);
  const got = (await readF32(device, b.out, (rows + (outRowBase ?? 0)) * D)).subarray((outRowBase ?? 0) * D);
  const stats = await readF32(device, b.rowstats, rows * 8);
  // With auxBound only the first min(cap, n_dead) slots count.
  const used = auxBound ? Math.min(cap, opts.nDead!) : cap;
  const idxUsed = idx.map((v, j) => (j % cap < used ? v : INVALID));
  const ref = sparseDecodeReference(idxUsed, val, W, opts.bias ? bDec : null, rows, D, cap, idxLimit);
  if (idxLimit !== undefined) {
    const n = Array.from(idx).filter((i) => i !== INVALID && i >= idxLimit).length;
    assert(n > 0 && n < idx.length / 2, `${n} entries beyond the prefix`);
  }
  let worst = 0;
  for (let j = 0; j < ref.length; j++) worst = Math.max(worst, Math.abs(got[j] - ref[j]) / (1 + Math.abs(ref[j])));
  assert(worst < 1e-5, `${path} D ${D} S ${S} cap ${cap}: worst error ${worst}`);
  for (let t = 0; t < rows; t++) {
    let l0 = 0;
    for (let s = 0; s < cap; s++) if (idxUsed[t * cap + s] < (idxLimit ?? INVALID)) l0++;
    assertEquals(stats[t * 8 + 2], l0, `L0 of row ${t}`);
  }
  Object.values(b).forEach((x) => x.destroy());
}

for (const path of ["texture", "buffer"] as const) {
  for (const [D, S, cap] of [[48, 100, 7], [512, 4096, 33], [52, 300, 5]]) {
    Deno.test(`sparse_decode ${path} d_in ${D} d_sae ${S} k ${cap} matches float64`, async () => {
      await decode(path, 37, D, S, cap, { bias: true });
    });
  }
  Deno.test(`sparse_decode ${path}: a Matryoshka prefix decodes latents < idxLimit into a stacked row`, async () => {
    await decode(path, 19, 48, 300, 9, { bias: true, idxLimit: 200, outRowBase: 19 });
  });
  Deno.test(`sparse_decode ${path}: AuxK bound reads only min(cap, n_dead) slots, no bias`, async () => {
    await decode(path, 21, 64, 200, 16, { bias: false, nDead: 5 });
  });
}
