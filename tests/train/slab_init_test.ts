/** SlabInit: the same initial parameters as initParams, drawn slab by slab, in order, and uploaded so by the trainer; the snapshot stream read in bounded groups. */
import { assertEquals, assertThrows } from "../assert.ts";
import { getDevice } from "../../kernels/runtime/device.ts";
import { initParams, SlabInit } from "../../stages/train/init.ts";
import { splitParam } from "../../stages/train/param_store.ts";
import { evenRanges } from "../../stages/train/slab_plan.ts";
import { GpuTrainer, PARAM_NAMES } from "../../stages/train/trainer.ts";
import { trainerConfig } from "./trainer_setup.ts";

const D = 12;
const S = 98;
const spec = { d_in: D, d_sae: S, seed: 7, decoderNorm: 0.5, initThreshold: 0.2 };
const bDec = Float32Array.from({ length: D }, (_, j) => 0.1 * j - 0.3);

Deno.test("SlabInit: each slab equals that slab of initParams; vectors equal; slabs must come in order", () => {
  const whole = initParams(spec, bDec);
  const slabs = evenRanges(S, 28, 4);
  const init = new SlabInit(spec, bDec);
  const parts = slabs.map((s) => init.slab(s));
  for (const n of ["W_enc", "W_dec"] as const) {
    const want = splitParam(n, whole[n], D, S, slabs);
    parts.forEach((p, j) => assertEquals(Array.from(p[n]), Array.from(want[j]), `${n} slab ${j}`));
  }
  // one reused pair (the trainer's upload) gives the same slabs
  const reuse = new SlabInit(spec, bDec);
  const into = { W_enc: new Float32Array(28 * D).fill(NaN), W_dec: new Float32Array(28 * D).fill(NaN) };
  for (const [j, s] of slabs.entries()) {
    const got = reuse.slab(s, into);
    for (const n of ["W_enc", "W_dec"] as const) {
      assertEquals(got[n].buffer, into[n].buffer);
      assertEquals(Array.from(got[n]), Array.from(parts[j][n]), `${n} slab ${j} (reused arrays)`);
    }
  }
  for (const n of ["b_enc", "b_dec", "log_threshold", "r_mag", "b_mag"] as const) {
    assertEquals(Array.from(init.vectors[n]), Array.from(whole[n]), n);
  }
  const skip = new SlabInit(spec, bDec);
  const e = assertThrows(() => skip.slab(slabs[1]), Error);
  assertEquals(e.message, "init: slab at latent 28, expected 0 (in order)");
});

Deno.test("GpuTrainer.create from a SlabInit (split plan) holds initParams' parameters", async () => {
  const cfg = trainerConfig("topk", { d_in: D, d_sae: S, k: 4, batch: 8 }, { auxK: 6, bindingLimit: 384 * 4 });
  const t = await GpuTrainer.create(await getDevice(), cfg, new SlabInit(spec, bDec));
  assertEquals(t.plan.slabs.length > 2, true);
  const got = await t.params();
  t.destroy();
  const want = initParams(spec, bDec);
  for (const n of PARAM_NAMES) if (want[n]) assertEquals(Array.from(got[n]!), Array.from(want[n]!), n);
});

Deno.test("snapshotStream: any grouping of the reads yields snapshot()'s tensors, in its specs' order", async () => {
  const cfg = trainerConfig("topk", { d_in: D, d_sae: S, k: 4, batch: 8 }, { auxK: 6, bindingLimit: 384 * 4 });
  const t = await GpuTrainer.create(await getDevice(), cfg, new SlabInit(spec, bDec));
  t.step(new Float32Array(8 * D).map((_, j) => Math.sin(j)), { lr: 1e-2, t: 1, sparsityCoef: 0, auxCoef: 0.5 });
  const whole = await t.snapshot();
  // 1 byte: every tensor alone; 8 KiB: a matrix alone, vectors grouped; default: all in one map
  for (const group of [1, 8192, undefined]) {
    const { specs, data } = t.snapshotStream(group);
    assertEquals(specs.map((s) => s.name), Object.keys(whole));
    let i = 0;
    for await (const a of data) {
      const n = specs[i++];
      assertEquals(n.shape, [whole[n.name].length]);
      assertEquals(Array.from(a), Array.from(whole[n.name]), `${n.name} (group ${group})`);
    }
    assertEquals(i, specs.length);
  }
  t.destroy();
});
