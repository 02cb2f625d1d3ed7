/**
 * Slab-mode TopK (rowStride, idxBase, sinceBase) and the slab merge (kernels/select/slab_merge.ts)
 * against the whole-row float64 TopK: ties across slabs, rows with fewer than k positives, and the
 * AuxK form (dead latents only, min(k, n_dead), a slab with fewer dead latents than k).
 */
import { assertEquals } from "../assert.ts";
import { createBuffer, getDevice, readF32, readU32, uploadBuffer } from "../../kernels/runtime/device.ts";
import { createSlabMerge, createTopk, topkReference } from "../../kernels/select/mod.ts";
import { type BoundKernel, INVALID } from "../../kernels/runtime/kernel.ts";
import { STATE, STATE_WORDS } from "../../kernels/runtime/slots.ts";
import { Rng } from "../../stages/train/rng.ts";
import { run } from "./harness.ts";

const WINDOW = 10;

async function slabbedTopk(
  path: "texture" | "buffer",
  pre: Float32Array,
  rows: number,
  slabs: number[],
  k: number,
  aux?: Uint32Array,
) {
  const device = await getDevice();
  const S = slabs.reduce((a, b) => a + b, 0);
  const state = new Uint32Array(STATE_WORDS);
  if (aux) state[STATE.N_DEAD] = aux.filter((s) => s >= WINDOW).length;
  const C = slabs.length * k;
  const b = {
    since: uploadBuffer(device, aux ?? new Uint32Array(S)),
    state: uploadBuffer(device, state),
    candIdx: createBuffer(device, rows * C * 4),
    candVal: createBuffer(device, rows * C * 4),
    idx: createBuffer(device, rows * k * 4),
    val: createBuffer(device, rows * k * 4),
  };
  const kernels: BoundKernel[] = [{ encode: (e) => e.clearBuffer(b.candVal) }];
  let start = 0;
  for (const [j, w] of slabs.entries()) {
    const part = new Float32Array(rows * w);
    for (let t = 0; t < rows; t++) part.set(pre.subarray(t * S + start, t * S + start + w), t * w);
    const dims = {
      rows,
      S: w,
      k: Math.min(k, w),
      cap: k,
      outBase: j * k,
      rowStride: C,
      idxBase: start,
      sinceBase: start,
    };
    const topk = await createTopk(device, { ...dims, aux: !!aux, window: WINDOW, path });
    kernels.push(
      topk({ pre: uploadBuffer(device, part), since: b.since, state: b.state, idx: b.candIdx, val: b.candVal }),
    );
    start += w;
  }
  kernels.push((await createSlabMerge(device, { rows, candidates: C, cap: k, aux: !!aux }))(b));
  await run(device, ...kernels);
  return { idx: await readU32(device, b.idx, rows * k), val: await readF32(device, b.val, rows * k) };
}

for (const path of ["texture", "buffer"] as const) {
  for (const aux of [false, true]) {
    Deno.test(`slab TopK + merge ${path}${aux ? " AuxK" : ""}: the whole-row selection (ties, few positives)`, async () => {
      const rows = 11, slabs = [128, 128, 44], S = 300, k = 9;
      const r = new Rng(S + k + (aux ? 1 : 0), 9);
      // Quantised values: exact ties, also across slabs; every third row mostly negative.
      const pre = new Float32Array(rows * S).map((_, j) =>
        Math.round(r.normal() * 4) / 4 - (Math.floor(j / S) % 3 === 0 ? 2.5 : 0)
      );
      // AuxK: dead latents (since ≥ WINDOW) are sparse, and the last slab has fewer than k.
      const since = aux ? new Uint32Array(S).map((_, i) => (i % (i < 256 ? 7 : 11) === 0 ? WINDOW : 0)) : undefined;
      const got = await slabbedTopk(path, pre, rows, slabs, k, since);
      const nDead = since ? since.filter((s) => s >= WINDOW).length : S;
      const want = topkReference(pre, rows, S, Math.min(k, nDead), k, since ? (i) => since[i] >= WINDOW : undefined);
      for (let t = 0; t < rows; t++) {
        // The chosen sets must agree (AuxK: only slots < min(k, n_dead) are written and read).
        const row = (a: ArrayLike<number>, v: ArrayLike<number>) =>
          [...Array(Math.min(k, nDead)).keys()].filter((s) => a[t * k + s] !== INVALID).map((s) =>
            `${a[t * k + s]}:${v[t * k + s]}`
          )
            .sort();
        assertEquals(row(got.idx, got.val), row(want.idx, want.val), `row ${t}`);
      }
      let fewer = 0;
      for (let t = 0; t < rows; t++) if ([...want.idx.subarray(t * k, (t + 1) * k)].some((i) => i === INVALID)) fewer++;
      assertEquals(fewer > 0, true, "some row has fewer than k positives");
    });
  }
}
