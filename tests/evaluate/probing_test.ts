import { assert, assertAlmostEquals, assertEquals } from "../assert.ts";
import {
  meanDifference,
  type ProbeExamples,
  type ProbeTask,
  sparseProbe,
  summariseProbes,
  topIndices,
} from "../../stages/evaluate/probing.ts";
import { Rng } from "../../stages/train/rng.ts";

/** Examples from dense latent rows (CSR keeps the non-zeros) and raw rows. */
function examples(lat: number[][], raw: number[][]): ProbeExamples {
  const offsets = [0], idx: number[] = [], val: number[] = [];
  for (const row of lat) {
    row.forEach((v, l) => {
      if (v !== 0) {
        idx.push(l);
        val.push(v);
      }
    });
    offsets.push(idx.length);
  }
  return {
    n: lat.length,
    dIn: raw[0].length,
    x: Float32Array.from(raw.flat()),
    offsets: Uint32Array.from(offsets),
    idx: Uint32Array.from(idx),
    val: Float32Array.from(val),
  };
}

Deno.test("mean difference and top-k selection by hand", () => {
  // Train: positives rows 0, 1; negatives rows 2, 3; row 4 is test and must not count.
  // latent 0: pos (2, 0) neg (0, 0) → |1 − 0| = 1;  latent 1: pos (1, 1) neg (3, 3) → 2;  latent 2: always 5 → 0.
  const ex = examples([[2, 1, 5], [0, 1, 5], [0, 3, 5], [0, 3, 5], [100, 0, 5]], [[0], [0], [0], [0], [0]]);
  const task: ProbeTask = {
    task: "pos",
    label: "X",
    members: Uint32Array.of(0, 1, 2, 3, 4),
    y: Uint8Array.of(1, 1, 0, 0, 1),
    test: Uint8Array.of(0, 0, 0, 0, 1),
  };
  const diff = meanDifference(ex, task, 3);
  assertEquals(Array.from(diff), [1, 2, 0]);
  assertEquals(topIndices(diff, 5), [1, 0]); // zeros never selected
  assertEquals(topIndices(Float64Array.of(1, 3, 3), 2), [1, 2]); // ties: lower index first
});

Deno.test("sparse probe: the label latent wins, random latents are the floor, raw is the ceiling", () => {
  const rng = new Rng(3), n = 400, dSae = 50;
  const lat: number[][] = [], raw: number[][] = [], y: number[] = [];
  for (let i = 0; i < n; i++) {
    const pos = i % 2;
    const row = Array.from({ length: dSae }, () => (rng.next() < 0.3 ? rng.next() : 0));
    row[7] = pos ? 1 + rng.next() : 0; // latent 7 fires exactly on positives
    lat.push(row);
    raw.push([pos ? 1 + rng.normal() * 0.3 : -1 + rng.normal() * 0.3, rng.normal()]);
    y.push(pos);
  }
  const task: ProbeTask = {
    task: "pos",
    label: "NN",
    members: Uint32Array.from({ length: n }, (_, i) => i),
    y: Uint8Array.from(y),
    test: Uint8Array.from({ length: n }, (_, i) => (i % 5 === 0 ? 1 : 0)),
  };
  const rows = sparseProbe(examples(lat, raw), task, dSae, 0);
  assertEquals(rows.length, 11); // 5 k × (sae, random) + raw
  const sae1 = rows.find((r) => r.method === "sae" && r.k === 1)!;
  assertEquals(sae1.latents, [7]);
  assertEquals(sae1.n_test, 80);
  assertEquals(sae1.n_train, 320);
  assertEquals(sae1.accuracy, 1);
  assertEquals(sae1.f1, 1);
  const rnd1 = rows.find((r) => r.method === "random" && r.k === 1)!;
  assert(rnd1.latents![0] !== 7 && rnd1.accuracy < 0.8, `random floor ${rnd1.accuracy} on ${rnd1.latents}`);
  const rawRow = rows.find((r) => r.method === "raw")!;
  assert(rawRow.accuracy > 0.95, `raw ceiling ${rawRow.accuracy}`);
  // Deterministic: the same inputs give the same rows.
  assertEquals(sparseProbe(examples(lat, raw), task, dSae, 0), rows);
  const s = summariseProbes(rows);
  assertEquals(s.sae_top_1, { accuracy: 1, f1: 1, tasks: 1 });
  assertAlmostEquals(s.raw.accuracy, rawRow.accuracy, 1e-12);
});
