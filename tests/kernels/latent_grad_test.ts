/** csc + per-latent gradients (texture and buffer paths, whole and per latent slab) against the float64 reference. */
import { assert, assertEquals } from "../assert.ts";
import { createBuffer, getDevice, readF32, readU32, uploadBuffer } from "../../kernels/runtime/device.ts";
import { createCsc } from "../../kernels/select/mod.ts";
import { createLatentGrad, latentGradReference } from "../../kernels/sparse/mod.ts";
import { Rng } from "../../stages/train/rng.ts";
import { dvecRows, type LevelRows } from "../../kernels/sparse/mod.ts";
import { randomEntries } from "./entries.ts";

function maxErr(got: Float32Array, ref: Float64Array): number {
  let worst = 0;
  for (let j = 0; j < ref.length; j++) worst = Math.max(worst, Math.abs(got[j] - ref[j]) / (1 + Math.abs(ref[j])));
  return worst;
}

async function check(
  path: "texture" | "buffer",
  B: number,
  D: number,
  S: number,
  cap: number,
  auxCap: number,
  levels?: LevelRows,
  DX = D,
  slabWidths?: number[],
) {
  const device = await getDevice();
  const r = new Rng(B + D + S + cap, 11);
  const main = randomEntries(r, B, S, cap);
  const aux = randomEntries(r, B, S, auxCap);
  const idx = new Uint32Array([...main.idx, ...aux.idx]);
  const val = new Float32Array([...main.val, ...aux.val]);
  const g = new Float32Array(idx.length).map(() => r.normal());
  const dvec = new Float32Array(dvecRows({ B, auxCap, levels }) * D).map(() => r.normal());
  const xc = new Float32Array(B * DX).map(() => r.normal());
  const since0 = new Uint32Array(S).map(() => r.int(1000));
  const dims = { B, D, DX, S, cap, auxCap, levels };
  const b = {
    idx: uploadBuffer(device, idx),
    val: uploadBuffer(device, val),
    g: uploadBuffer(device, g),
    dvec: uploadBuffer(device, dvec),
    xc: uploadBuffer(device, xc),
    start: createBuffer(device, (S + 1) * 4),
    list: createBuffer(device, idx.length * 4),
    gW_dec: createBuffer(device, S * D * 4),
    gW_enc: createBuffer(device, S * DX * 4),
    gb_enc: createBuffer(device, S * 4),
    since: uploadBuffer(device, since0),
  };
  const csc = (await createCsc(device, dims))(b);
  const enc = device.createCommandEncoder();
  csc.encode(enc);
  // Slab mode: one pass per slab [lo, lo + w) into the slab's own gW_dec [w, D] / gW_enc [D, w] buffers.
  const slabs = (slabWidths ?? [S]).map((w, j, a) => ({ start: a.slice(0, j).reduce((x, y) => x + y, 0), size: w }));
  const parts = slabs.map((sl) =>
    slabWidths ? { gW_dec: createBuffer(device, sl.size * D * 4), gW_enc: createBuffer(device, sl.size * DX * 4) } : b
  );
  for (const [j, sl] of slabs.entries()) {
    const slab = slabWidths ? { S: sl.size, lo: sl.start } : {};
    (await createLatentGrad(device, { ...dims, ...slab, path }))({ ...b, ...parts[j] }).encode(enc);
  }
  device.queue.submit([enc.finish()]);
  const ref = latentGradReference(idx, val, g, dvec, xc, dims);
  const what = `${path} B ${B} D ${D} DX ${DX} S ${S} k ${cap}+${auxCap} levels ${levels?.widths} slabs ${slabWidths}`;
  const gDec = new Float32Array(S * D), gEnc = new Float32Array(S * DX);
  for (const [j, sl] of slabs.entries()) {
    gDec.set(await readF32(device, parts[j].gW_dec, sl.size * D), sl.start * D);
    const e = await readF32(device, parts[j].gW_enc, sl.size * DX); // [DX, w] → columns of [DX, S]
    for (let d = 0; d < DX; d++) gEnc.set(e.subarray(d * sl.size, (d + 1) * sl.size), d * S + sl.start);
  }
  const e1 = maxErr(gDec, ref.gW_dec);
  const e2 = maxErr(gEnc, ref.gW_enc);
  const e3 = maxErr(await readF32(device, b.gb_enc, S), ref.gb_enc);
  assert(e1 < 1e-5 && e2 < 1e-5 && e3 < 1e-5, `${what}: errors gW_dec ${e1} gW_enc ${e2} gb_enc ${e3}`);
  const since = await readU32(device, b.since, S);
  assertEquals(Array.from(since), Array.from(since0, (s, i) => (ref.fired[i] ? 0 : s + B)), `${what}: since`);
  assert(ref.fired.some((f) => !f) && ref.fired.some((f) => f), "both fired and silent latents occur");
  Object.values(b).forEach((x) => x.destroy());
  if (slabWidths) parts.forEach((p) => [p.gW_dec, p.gW_enc].forEach((x) => x.destroy()));
}

for (const path of ["texture", "buffer"] as const) {
  for (const [B, D, S, cap, auxCap] of [[37, 48, 100, 7, 3], [70, 512, 4096, 33, 0], [45, 52, 300, 5, 9]]) {
    Deno.test(`latent_grad ${path} d_in ${D} d_sae ${S} k ${cap} aux ${auxCap} matches float64`, async () => {
      await check(path, B, D, S, cap, auxCap);
    });
  }
}

// Matryoshka: main entries read their prefix group's gradient rows (with and without AuxK rows before them).
for (const path of ["texture", "buffer"] as const) {
  for (
    const [B, D, S, cap, auxCap, widths] of [[37, 48, 100, 7, 3, [10, 40]], [45, 52, 300, 5, 0, [20, 60, 150]]] as const
  ) {
    Deno.test(`latent_grad ${path} Matryoshka levels ${widths} d_sae ${S} aux ${auxCap} matches float64`, async () => {
      await check(path, B, D, S, cap, auxCap, { widths: [...widths], innerBase: auxCap ? 2 : 1 });
    });
  }
}

// Transcoders: gradient rows d_out wide, input rows d_in (wider and narrower; buffer path for widths % 4 != 0).
for (const path of ["texture", "buffer"] as const) {
  for (const [B, D, DX, S, cap, auxCap] of [[37, 40, 100, 100, 7, 3], [45, 96, 32, 300, 5, 9]]) {
    Deno.test(`latent_grad ${path} transcoder d_out ${D} d_in ${DX} matches float64`, async () => {
      await check(path, B, D, S, cap, auxCap, undefined, DX);
    });
  }
  Deno.test(`latent_grad ${path} transcoder d_out 40 d_in 100 over slabs 28+28+28+16 matches float64`, async () => {
    await check(path, 37, 40, 100, 7, 3, undefined, 100, [28, 28, 28, 16]);
  });
}
for (const [B, D, DX, S, cap, auxCap] of [[29, 18, 44, 90, 6, 4], [33, 44, 18, 90, 6, 4]]) {
  Deno.test(`latent_grad buffer transcoder d_out ${D} d_in ${DX} (not multiples of 4) matches float64`, async () => {
    await check("buffer", B, D, S, cap, auxCap, undefined, DX);
  });
}

// Matryoshka over latent slabs of unequal width: a latent's prefix group is set by its global index.
for (const path of ["texture", "buffer"] as const) {
  Deno.test(`latent_grad ${path} Matryoshka levels 10,40 over slabs 28+28+28+16 matches float64`, async () => {
    await check(path, 37, 48, 100, 7, 3, { widths: [10, 40], innerBase: 2 }, 48, [28, 28, 28, 16]);
  });
}
