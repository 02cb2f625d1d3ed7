/** BatchTopK selection and its threshold moving average against the float64 reference, with ties. */
import { assert, assertEquals } from "../assert.ts";
import { getDevice, readF32, readU32, uploadBuffer } from "../../kernels/runtime/device.ts";
import { batchTopkEmaReference, batchTopkReference, createBatchTopk } from "../../kernels/select/mod.ts";
import { Rng } from "../../stages/train/rng.ts";
import { run } from "./harness.ts";
import { STATE, STATE_WORDS } from "../../kernels/runtime/slots.ts";

const INVALID = 0xffffffff;
const f32Bits = (v: number) => new Uint32Array(new Float32Array([v]).buffer)[0];

// [rows B, candidates per row, k, quantised values (many exact ties)]
const cases: [number, number, number, boolean][] = [
  [37, 7, 3, false],
  [256, 16, 4, true],
  [512, 20, 5, false],
  [64, 8, 8, false], // fewer valid entries than k·B: all kept
];

for (const [B, cap, k, ties] of cases) {
  Deno.test(`batchtopk kernel B ${B} cap ${cap} k ${k}${ties ? " (ties)" : ""} matches the reference`, async () => {
    const device = await getDevice();
    const n = B * cap;
    const kTotal = k * B;
    const r = new Rng(n + k, 21);
    const idx = new Uint32Array(n).map(() => (r.next() < 0.2 ? INVALID : r.int(4096)));
    const val = new Float32Array(n).map(() => {
      const v = Math.abs(r.normal()) * 3 + 0.01;
      return ties ? Math.round(v * 8) / 8 + 0.125 : v;
    });
    const decay = 0.9;
    const thr0 = 0.75;
    const state = new Uint32Array(STATE_WORDS);
    state[STATE.BT_THR] = f32Bits(thr0);
    const b = { idx: uploadBuffer(device, idx), val: uploadBuffer(device, val), state: uploadBuffer(device, state) };
    const bt = (await createBatchTopk(device, { n, kTotal, emaDecay: decay }))(b);
    await run(device, bt.select, bt.ema);
    const valid = Array.from(idx, (i) => i !== INVALID);
    const keep = batchTopkReference(valid, val, kTotal);
    const gotIdx = await readU32(device, b.idx, n);
    const gotVal = await readF32(device, b.val, n);
    for (let j = 0; j < n; j++) {
      assertEquals(gotIdx[j], keep[j] ? idx[j] : INVALID, `entry ${j} index`);
      assertEquals(gotVal[j], keep[j] || !valid[j] ? val[j] : 0, `entry ${j} value`); // empty slots untouched
    }
    const kept = val.filter((_, j) => keep[j]);
    const nValid = valid.filter(Boolean).length;
    // Exactly k·B kept unless ties straddle the boundary (all kept) or fewer are valid.
    assert(kept.length === Math.min(kTotal, nValid) || (ties && kept.length > kTotal), `kept ${kept.length}`);
    const st = await readU32(device, b.state, 8);
    assertEquals(st[7], kept.length, "kept count");
    const thr = new Float32Array(st.buffer)[6];
    const want = batchTopkEmaReference(thr0, Array.from(kept), decay);
    assert(Math.abs(thr - want) <= 1e-6 * want, `threshold EMA ${thr} vs ${want}`);
  });
}
