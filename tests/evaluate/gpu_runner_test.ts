import { assertAlmostEquals, assertEquals } from "../assert.ts";
import { gpuRunner } from "../../stages/evaluate/gpu_runner.ts";
import { cpuRunner } from "../../stages/evaluate/sae_runner.ts";
import { planSlabs } from "../../stages/train/slab_plan.ts";
import { mulberry32, randn } from "./fixtures.ts";

Deno.test("GPU runner gives the codes of the float64 reference (topk, jumprelu, standard, gated, each whole and split; rows over CAP)", async () => {
  const rnd = mulberry32(21);
  const dIn = 24, dSae = 300, n = 37;
  const weights = {
    W_enc: new Float32Array(dIn * dSae).map(() => randn(rnd) * 0.3),
    W_dec: new Float32Array(dSae * dIn).map(() => randn(rnd) * 0.3),
    b_enc: new Float32Array(dSae).map(() => randn(rnd) * 0.1),
    b_dec: new Float32Array(dIn).map(() => randn(rnd) * 0.1),
    threshold: new Float32Array(dSae).map(() => rnd() * 0.5),
  };
  const x = new Float32Array(n * dIn).map(() => randn(rnd));
  const split = planSlabs({ d_in: dIn, d_sae: dSae, batch: 40, cap: 7, auxCap: 0, sparse: true }, 6144);
  assertEquals([split.slabs.length, split.chunks.length], [5, 2]);
  // the ReLU family at a 5000-byte binding: latent slabs 52 × 5 + 40 (unequal), 4 rows per batch
  const dense = planSlabs({ d_in: dIn, d_sae: dSae, batch: 4, cap: 0, auxCap: 0, sparse: false, denseStack: 1 }, 5000);
  assertEquals(dense.slabs.map((s) => s.size), [52, 52, 52, 52, 52, 40]);
  for (
    const [architecture, k, cap, limit, maxRows] of [
      ["topk", 7, 0, undefined, 16],
      // a 6 KiB binding: 5 latent slabs of 60 and 2 row chunks of 20 (stages/train/slab_plan.ts)
      ["topk", 7, 0, 6144, 40],
      ["jumprelu", null, 16, undefined, 16], // most rows overflow CAP: recomputed from pre
      ["standard", null, 300, undefined, 16],
      ["gated", null, 300, undefined, 16], // loaded in its JumpReLU form (stages/train/sae_cpu.ts)
      ["jumprelu", null, 16, 5000, 16], // split: codes appended slab by slab; rows over CAP read from every slab
      ["standard", null, 300, 5000, 16],
      ["gated", null, 300, 5000, 16],
    ] as const
  ) {
    const cfg = { architecture, d_in: dIn, d_sae: dSae, k, apply_b_dec_to_input: true };
    const gpu = await gpuRunner(weights, cfg, maxRows, cap || undefined, limit);
    try {
      const want = await cpuRunner(weights, cfg).encode(x, n);
      for (let s = 0; s < n; s += gpu.maxRows) {
        const b = Math.min(gpu.maxRows, n - s);
        const got = await gpu.encode(x.subarray(s * dIn, (s + b) * dIn), b);
        for (let t = 0; t < b; t++) {
          const g = new Map<number, number>(), w = new Map<number, number>();
          for (let e = got.offsets[t]; e < got.offsets[t + 1]; e++) if (got.val[e] !== 0) g.set(got.idx[e], got.val[e]);
          for (let e = want.offsets[s + t]; e < want.offsets[s + t + 1]; e++) w.set(want.idx[e], want.val[e]);
          assertEquals(
            [...g.keys()].sort((a, b) => a - b),
            [...w.keys()].sort((a, b) => a - b),
            `${architecture} row ${s + t}`,
          );
          for (const [l, v] of w) assertAlmostEquals(g.get(l)!, v, 1e-4);
        }
      }
    } finally {
      gpu.dispose();
    }
  }
});
