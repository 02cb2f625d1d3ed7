import { join } from "node:path";
import { assert, assertEquals } from "../assert.ts";
import { readParquet } from "../../stages/io/parquet.ts";
import { evaluateStage } from "../../stages/evaluate/mod.ts";
import { PROBE_KS } from "../../stages/evaluate/probing.ts";
import { evalContext, type EvalFixture, makeEvalFixture, TAGS } from "./stage_fixture.ts";

/** The eval.json fields these tests read. */
interface SupervisedEval {
  sparse_probing: {
    sample_tokens: number;
    sample_sequences: number;
    pos_tasks: number;
    genre_tasks: number;
    pos: Record<string, unknown>;
  };
  absorption: unknown;
}

/** Run the stage (CPU encoder, no downstream) on a fresh fixture; `check` sees the fixture, eval.json, outDir. */
async function withStage(
  seed: number,
  params: Record<string, unknown>,
  check: (fx: EvalFixture, ev: SupervisedEval, outDir: string) => Promise<void>,
): Promise<void> {
  const fx = await makeEvalFixture({ seed });
  try {
    const ctx = await evalContext(fx, { backend: "cpu", downstream_sequences: 0, ...params });
    await evaluateStage.run(ctx);
    await check(fx, JSON.parse(await Deno.readTextFile(join(ctx.outDir, "eval.json"))), ctx.outDir);
  } finally {
    await Deno.remove(fx.root, { recursive: true });
  }
}

Deno.test("evaluate stage: probes.parquet, absorption.parquet and their eval.json summaries", async () => {
  // Sample every held-out token (rates 1) and let every class with 2 tokens be probed.
  const params = { probe_examples: 10000, probe_min_support: 2, probe_min_sequences: 2, absorption_examples: 10000 };
  await withStage(3, params, async (fx, ev, outDir) => {
    const n = fx.heldoutRows.length;
    assertEquals(ev.sparse_probing.sample_tokens, n);
    assertEquals(ev.sparse_probing.sample_sequences, 4);
    const probes = await readParquet(join(outDir, "probes.parquet"));
    const labels = [...new Set(probes.filter((r) => r.task === "pos").map((r) => r.label as string))];
    assertEquals(labels.length, ev.sparse_probing.pos_tasks);
    assert(labels.length > 0 && labels.every((l) => TAGS.includes(l)), `POS tasks ${labels}`);
    for (const label of labels) {
      const rows = probes.filter((r) => r.task === "pos" && r.label === label);
      // Every k for sae and random, plus one raw probe; balanced: n_train + n_test = 2 × positives sampled.
      assertEquals(rows.length, 2 * PROBE_KS.length + 1);
      const tag = TAGS.indexOf(label);
      const pos = Array.from(fx.heldoutRows).filter((r) => fx.tag[r] === tag).length;
      for (const r of rows) {
        assert((r.accuracy as number) >= 0 && (r.accuracy as number) <= 1);
        assert((r.n_train as number) + (r.n_test as number) <= 2 * pos);
        if (r.method !== "raw") assert((r.latents as number[]).length <= (r.k as number));
      }
    }
    assertEquals(
      Object.keys(ev.sparse_probing.pos).sort(),
      [
        "raw",
        ...PROBE_KS.map((k) => `random_top_${k}`),
        ...PROBE_KS.map((k) => `sae_top_${k}`),
      ].sort(),
    );
    // ~40 held-out tokens give no letter the 8 training tokens a letter probe needs (absorption_test.ts covers
    // the metric itself): the table is empty and eval.json says null.
    assertEquals(await readParquet(join(outDir, "absorption.parquet")), []);
    assertEquals(ev.absorption, null);
    // Another batch size gives the same bytes (the sample depends on rows, not batches; no timings inside).
    const again = await evalContext(fx, { backend: "cpu", downstream_sequences: 0, ...params, batch_tokens: 5 }, "b5");
    await evaluateStage.run(again);
    for (const f of ["eval.json", "probes.parquet", "absorption.parquet"]) {
      assertEquals(await Deno.readFile(join(again.outDir, f)), await Deno.readFile(join(outDir, f)), f);
    }
  });
});

Deno.test("evaluate stage: probing and absorption switched off write empty tables", async () => {
  await withStage(4, { probe_examples: 0, probe_max_sequences: 0, absorption_examples: 0 }, async (_fx, ev, outDir) => {
    assertEquals([ev.sparse_probing.pos_tasks, ev.sparse_probing.genre_tasks, ev.sparse_probing.sample_tokens], [
      0,
      0,
      0,
    ]);
    assertEquals(ev.absorption, null);
    assertEquals(await readParquet(join(outDir, "probes.parquet")), []);
    assertEquals(await readParquet(join(outDir, "absorption.parquet")), []);
  });
});
