/** The TopK and BatchTopK kernels against their references, at sizes on and off the tile. */
import { assert, assertEquals } from "../assert.ts";
import { createBuffer, getDevice, readF32, readU32, uploadBuffer } from "../../kernels/runtime/device.ts";
import { createTopk, topkReference } from "../../kernels/select/mod.ts";
import { batchTopkReference, createBatchTopk } from "../../kernels/select/mod.ts";
import { createCsc, cscReference } from "../../kernels/select/mod.ts";
import { Rng } from "../../stages/train/rng.ts";

/** Marks output slots a kernel must leave alone. */
const UNTOUCHED = 0xdeadbeef;

async function runTopk(
  path: "texture" | "buffer",
  rows: number,
  S: number,
  k: number,
  pre: Float32Array,
  since?: Uint32Array,
  nDead = 0,
) {
  const device = await getDevice();
  const state = new Uint32Array(8);
  state[2] = nDead;
  const bufs = {
    pre: uploadBuffer(device, pre),
    since: uploadBuffer(device, since ?? new Uint32Array(S)),
    state: uploadBuffer(device, state),
    idx: uploadBuffer(device, new Uint32Array(rows * k).fill(UNTOUCHED)),
    val: createBuffer(device, rows * k * 4),
  };
  const kern = (await createTopk(device, { rows, S, k, aux: !!since, window: 10, path }))(bufs);
  const enc = device.createCommandEncoder();
  kern.encode(enc);
  device.queue.submit([enc.finish()]);
  return { idx: await readU32(device, bufs.idx, rows * k), val: await readF32(device, bufs.val, rows * k) };
}

for (const path of ["texture", "buffer"] as const) {
  // Off and on the chunk sizes; k > 64 takes the radix / whole-row fallbacks.
  for (
    const [S, k, quantised] of [[100, 7, 1], [4096, 33, 1], [8192, 32, 0], [512, 64, 1], [300, 100, 1], [2048, 65, 0]]
  ) {
    Deno.test(`topk ${path} d_sae ${S} k ${k} matches the reference${quantised ? " (with ties)" : ""}`, async () => {
      const rows = 9;
      const r = new Rng(S + k, 4);
      // Quantised values make exact ties common; some rows mostly negative.
      const pre = new Float32Array(rows * S).map((_, j) =>
        quantised ? Math.round(r.normal() * 8) / 8 - (j % 3 === 0 ? 1 : 0) : r.normal() - (j % 5 === 0 ? 2 : 0)
      );
      const got = await runTopk(path, rows, S, k, pre);
      const ref = topkReference(pre, rows, S, k);
      assertEquals(Array.from(got.idx), Array.from(ref.idx));
      for (let j = 0; j < ref.val.length; j++) assert(got.val[j] === ref.val[j], `val ${j}`);
    });
  }

  for (const nDead of [12, 0]) {
    Deno.test(`topk ${path}, AuxK mode with ${nDead} dead: only dead latents, min(k, n_dead) slots written`, async () => {
      const rows = 5;
      const S = 200;
      const k = 16;
      const r = new Rng(1, 4);
      const pre = new Float32Array(rows * S).map(() => r.normal());
      const since = new Uint32Array(S).map((_, i) => (nDead && i % 17 === 0 ? 50 : 0)); // 12 dead latents
      assertEquals(Array.from(since).filter((s) => s >= 10).length, nDead);
      const got = await runTopk(path, rows, S, k, pre, since, nDead);
      const ref = topkReference(pre, rows, S, Math.min(k, nDead), k, (i) => since[i] >= 10);
      const used = Math.min(k, nDead);
      const want = Array.from(ref.idx, (v, j) => (j % k < used ? v : UNTOUCHED));
      assertEquals(Array.from(got.idx), want);
    });
  }
}

Deno.test("batchtopk kernel keeps the k·B largest and the csc lists match the reference", async () => {
  const device = await getDevice();
  const B = 40;
  const cap = 12;
  const S = 150;
  const r = new Rng(2, 4);
  const idx = new Uint32Array(B * cap).map(() => (r.next() < 0.2 ? 0xffffffff : r.int(S)));
  const val = new Float32Array(B * cap).map(() => Math.abs(r.normal()) + 0.01);
  const state = new Uint32Array(8);
  const b = { idx: uploadBuffer(device, idx), val: uploadBuffer(device, val), state: uploadBuffer(device, state) };
  const bt = (await createBatchTopk(device, { n: B * cap, kTotal: 4 * B }))(b);
  const start = createBuffer(device, (S + 1) * 4);
  const list = createBuffer(device, B * cap * 4);
  const csc = (await createCsc(device, { B, S, cap, auxCap: 0, chunk: 8 }))({ idx: b.idx, start, list });
  const enc = device.createCommandEncoder();
  bt.select.encode(enc);
  csc.encode(enc);
  device.queue.submit([enc.finish()]);
  const gotIdx = await readU32(device, b.idx, B * cap);
  const keep = batchTopkReference(Array.from(idx, (i) => i !== 0xffffffff), val, 4 * B);
  for (let j = 0; j < idx.length; j++) assertEquals(gotIdx[j] !== 0xffffffff, keep[j], `entry ${j}`);
  assertEquals(keep.filter(Boolean).length, 4 * B);
  const ref = cscReference(gotIdx, { B, S, cap, auxCap: 0, chunk: 8 });
  assertEquals(Array.from(await readU32(device, start, S + 1)), Array.from(ref.start));
  assertEquals(Array.from(await readU32(device, list, ref.list.length)), Array.from(ref.list));
});
