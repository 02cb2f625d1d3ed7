/** The slab plan: ranges, the research sizes' splits, the memory budget formula and the one-line limits. */
import { assert, assertEquals, assertMatch, assertThrows } from "../assert.ts";
import { checkMemory, evenRanges, memoryBudget, planSlabs } from "../../stages/train/slab_plan.ts";

const MiB128 = 128 * 2 ** 20;
const topk = (d_in: number, d_sae: number, batch: number, k: number) => ({
  d_in,
  d_sae,
  batch,
  cap: k,
  auxCap: Math.min(d_in / 2, d_sae),
  sparse: true,
});

Deno.test("evenRanges: covers [0, n) in order, each ≤ most, aligned but the last", () => {
  for (const [n, most, align] of [[98, 32, 4], [200, 48, 4], [24, 19, 1], [7, 3, 4], [8192, 8192, 4]]) {
    const r = evenRanges(n, most, align);
    let at = 0;
    for (const [j, x] of r.entries()) {
      assertEquals(x.start, at);
      assert(x.size >= 1 && x.size <= most, `${n}/${most}: size ${x.size}`);
      if (j < r.length - 1 && most >= align) assertEquals(x.size % align, 0);
      at += x.size;
    }
    assertEquals(at, n);
  }
  assertEquals(evenRanges(98, 32, 4).map((x) => x.size), [28, 28, 28, 14]);
});

Deno.test("planSlabs: the default size stays one slab; research widths split by latents, not the batch", () => {
  const one = planSlabs(topk(512, 8192, 4096, 32), MiB128);
  assertEquals([one.slabs.length, one.chunks.length], [1, 1]);
  const wide = planSlabs(topk(768, 65536, 4096, 64), MiB128);
  assertEquals([wide.slabs.length, wide.slabs[0].size, wide.chunks.length], [8, 8192, 1]);
  // aux_k 1152: a row's merge candidates (16 slabs × 1152) bound the rows per chunk too
  const gemma = planSlabs(topk(2304, 131072, 4096, 64), MiB128);
  assertEquals([gemma.slabs.length, gemma.chunks.length], [16, 3]);
  assert(gemma.chunks[0].size * 16 * 1152 * 4 <= MiB128);
  for (const p of [one, wide, gemma]) {
    for (const s of p.slabs) assert(s.size * 2304 * 4 <= MiB128 && 4096 * s.size * 4 <= MiB128);
  }
});

Deno.test("planSlabs, dense: tiles of stack × chunk rows × slab width within one binding, whole-batch tiles first", () => {
  const dense = (d_in: number, d_sae: number, batch: number, denseStack: number) => ({
    ...topk(d_in, d_sae, batch, 1),
    cap: 0,
    auxCap: 0,
    sparse: false,
    denseStack,
  });
  const small = planSlabs(dense(512, 8192, 4096, 1), MiB128);
  assertEquals([small.slabs.length, small.chunks.length], [1, 1]);
  const wide = planSlabs(dense(768, 65536, 4096, 1), MiB128);
  assertEquals([wide.slabs.length, wide.slabs[0].size, wide.chunks.length], [8, 8192, 1]);
  const gated = planSlabs(dense(768, 65536, 4096, 2), MiB128);
  assertEquals([gated.slabs.length, gated.slabs[0].size, gated.chunks.length], [16, 4096, 1]);
  // a batch so large that whole-batch slabs would be narrower than 256: chunks instead
  const rows = planSlabs(dense(64, 4096, 16384, 1), MiB128 / 16);
  assert(
    rows.chunks.length > 1 && rows.slabs[0].size >= 256,
    `${rows.slabs.length} slabs, ${rows.chunks.length} chunks`,
  );
  for (const [p, q, D] of [[small, 1, 512], [wide, 1, 768], [gated, 2, 768], [rows, 1, 64]] as const) {
    const L = p.bindingBytes;
    for (const s of p.slabs) assert(s.size * D * 4 <= L && q * p.chunks[0].size * s.size * 4 <= L);
  }
});

Deno.test("memoryBudget: weights, Adam and gradients by formula", () => {
  const m = memoryBudget(topk(4, 10, 2, 1), 10, 2);
  assertEquals(m.weights, 4 * (2 * 4 * 10 + 2 * 10 + 4));
  assertEquals(m.adam, 2 * m.weights);
  assertEquals(m.grads, 4 * (2 * 4 * 10 + 2 * 10 + 4));
  assertEquals(m.total, m.weights + m.adam + m.grads + m.scratch);
  // streamed gradients: one slab's W_enc / W_dec (width 5 of 10), whole vectors; the W_dec row
  // texture is one slab's (5·4) too
  const s = memoryBudget({ ...topk(4, 10, 2, 1), streamedGrads: true }, 5, 2, 2);
  assertEquals(s.grads, 4 * (2 * 4 * 5 + 2 * 10 + 4));
  const split = memoryBudget(topk(4, 10, 2, 1), 5, 2, 2);
  assertEquals(split.grads - s.grads, 4 * 2 * 4 * 5);
  assertEquals(s.scratch, split.scratch);
});

Deno.test("memoryBudget: research width with streamed gradients within 1.3× weights + Adam on the device", () => {
  const plan = planSlabs({ ...topk(2304, 131072, 4096, 64), streamedGrads: true }, MiB128);
  const m = plan.memory;
  const ratio = m.total / (m.weights + m.adam);
  assert(ratio <= 1.3, `budget ${ratio.toFixed(3)}× weights + Adam`);
});

Deno.test("limits: one line with the sizes and the setting to lower", () => {
  const rows = assertThrows(() => planSlabs(topk(2304, 8192, 16384, 64), MiB128));
  assertMatch(
    rows.message,
    /batch_size × d_in .* = 288 MiB\) exceeds maxStorageBufferBindingSize \(128 MiB\); lower batch_size$/,
  );
  // transcoders (no denseStack) still refuse a split
  const dense = assertThrows(() => planSlabs({ ...topk(512, 65536, 4096, 32), sparse: false, auxCap: 0 }, MiB128));
  assertMatch(
    dense.message,
    /^train: the transcoder step .*= 1024 MiB\) in one binding of 128 MiB; lower batch_size or d_sae$/,
  );
  const gatedRows = assertThrows(() =>
    planSlabs({ ...topk(2304, 8192, 4096, 64), sparse: false, auxCap: 0, denseStack: 2 }, MiB128 / 2)
  );
  assertMatch(gatedRows.message, /4096 × 2304 × 2 \(gated\) f32 = 72 MiB\) exceeds .* \(64 MiB\); lower batch_size$/);
  const huge = memoryBudget(topk(4096, 2 ** 24, 4096, 64), 8192, 4096);
  const e = assertThrows(() => checkMemory(huge, true), Error);
  assert(
    /needs \d+ MiB .*weights \d+ MiB, Adam \d+ MiB.*has \d+ MiB available; lower d_sae or batch_size/.test(e.message),
    e.message,
  );
});

Deno.test("a d_sae that fits one binding is one slab even when not a multiple of 4", () => {
  const plan = planSlabs({ d_in: 32, d_sae: 98, batch: 8, cap: 5, auxCap: 4, sparse: true }, 128 * 2 ** 20);
  assertEquals(plan.slabs, [{ start: 0, size: 98 }]);
});
