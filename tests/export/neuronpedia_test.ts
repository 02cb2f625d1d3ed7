/**
 * The Neuronpedia batches against the field names of Neuronpedia's published schema (its Prisma Neuron and
 * Activation models, tests/fixtures/neuronpedia_schema.json) and by hand; and written by the export stage.
 */
import { assert, assertAlmostEquals, assertEquals } from "../assert.ts";
import { neuronAlignment, neuronpediaBatches, saeSetName } from "../../stages/export/neuronpedia.ts";
import { type ExportParams, exportStage } from "../../stages/export/mod.ts";
import { resolveParams } from "../../pipeline/params.ts";
import { makeCtx, makeFixture } from "./fixtures.ts";

const schema = JSON.parse(await Deno.readTextFile(new URL("../fixtures/neuronpedia_schema.json", import.meta.url)));

/** Every key is one Neuronpedia reads; every key it reads is there; activations map onto Activation columns. */
function checkBatch(batch: Record<string, unknown>): void {
  assertEquals(Object.keys(batch).sort(), [...schema.batch_keys].sort());
  const allowed = new Set([...schema.neuron_columns, "feature_index", "activations", "explanations"]);
  for (const f of batch.features as Record<string, unknown>[]) {
    for (const k of Object.keys(f)) assert(allowed.has(k), `feature key ${k} is not a Neuronpedia Neuron column`);
    for (const k of schema.feature_keys_required) assert(k in f, `feature lacks ${k}`);
    for (const a of f.activations as Record<string, unknown>[]) {
      assertEquals(Object.keys(a).sort(), Object.keys(schema.activation_keys).sort());
      for (const col of Object.values(schema.activation_keys)) assert(schema.activation_columns.includes(col));
      assertEquals((a.tokens as string[]).length, (a.values as number[]).length);
    }
  }
}

Deno.test("neuronpedia: batches by hand, valid against the schema's field names", () => {
  // Latent 0: W_dec row (1, −3, 2, 0.5), ‖·‖₁ = 6.5 → alignment indices 1, 2, 0 with shares 3/6.5, 2/6.5, 1/6.5.
  const wDec = Float32Array.of(1, -3, 2, 0.5, 0, 0, 0, 0, 4, 0, 0, 0);
  const a = neuronAlignment(wDec, 0, 4);
  assertEquals(a.neuron_alignment_indices, [1, 2, 0]);
  assertEquals(a.neuron_alignment_values, [-3, 2, 1]);
  [3, 2, 1].forEach((v, i) => assertAlmostEquals(a.neuron_alignment_l1[i], v / 6.5, 1e-4));
  const ex = (latent: number, acts: number[]) => ({
    latent,
    kind: "top",
    tokens: acts.map((_, i) => `t${i}`),
    acts,
    center: acts.indexOf(Math.max(...acts)),
    quantile: null,
    note: "",
  });
  const files = neuronpediaBatches({
    modelId: "use-lite",
    layer: 0,
    hookName: "blocks.0.hook_resid_post",
    dSae: 3,
    dIn: 4,
    wDec,
    latents: {
      latent: [0, 1, 2],
      frequency: [0.25, 0, 0.5],
      act_hist: [[3, 1], [0, 0], [1, 1]],
      act_hist_max: [2, 0, 4],
    },
    examples: [ex(0, [0, 2, 1]), ex(0, [1.5, 0]), { ...ex(2, [4]), kind: "q0.5" }, ex(2, [3, 1])],
    topTokens: new Map([[0, { pos_str: [" the", " a"], pos_values: [2, 1], neg_str: ["x"], neg_values: [-3] }]]),
    batchSize: 1,
  });
  assertEquals([...files.keys()], ["batch-0.json", "batch-1.json", "skipped_indexes.json"]); // 1 feature per batch
  const b0 = JSON.parse(files.get("batch-0.json")!);
  checkBatch(b0);
  checkBatch(JSON.parse(files.get("batch-1.json")!));
  assertEquals([b0.model_id, b0.layer, b0.sae_set], ["use-lite", 0, "res-sae-pipeline"]);
  const f0 = b0.features[0];
  assertEquals(f0.feature_index, 0);
  assertEquals(f0.frac_nonzero, 0.25);
  assertEquals([f0.pos_str, f0.pos_values, f0.neg_str, f0.neg_values], [[" the", " a"], [2, 1], ["x"], [-3]]);
  assertEquals(f0.freq_hist_data_bar_heights, [3, 1]);
  assertEquals(f0.freq_hist_data_bar_values, [0.5, 1.5]); // bin centres of (0, 2] in 2 bins
  assertEquals(f0.activations.length, 2);
  assertEquals(f0.activations[0], {
    bin_min: -1,
    bin_max: 2,
    bin_contains: -1,
    tokens: ["t0", "t1", "t2"],
    values: [0, 2, 1],
    qualifying_token_index: 1,
  });
  // Latent 2 exports its top example only; latent 1 has none and is skipped.
  const f2 = JSON.parse(files.get("batch-1.json")!).features[0];
  assertEquals(f2.activations.length, 1);
  assertEquals([f2.pos_str, f2.neg_str], [[], []], "a latent without top tokens has empty lists");
  assertEquals(JSON.parse(files.get("skipped_indexes.json")!).skipped_indexes, [1]);
  assertEquals([saeSetName("blocks.1.mlp.hook_post"), saeSetName("blocks.0.attn.hook_z")], [
    "mlp-sae-pipeline",
    "att-sae-pipeline",
  ]);
});

Deno.test("export stage writes Neuronpedia batches for every latent with examples", async () => {
  const root = await Deno.makeTempDir();
  try {
    const fx = await makeFixture(root, { arch: "topk", dIn: 8, dSae: 40, k: 4, seed: 5, topExamples: 2 });
    const out = `${root}/out`;
    await Deno.mkdir(out);
    const params = resolveParams("export", exportStage.params, { neuronpedia_batch: 16, dashboard_latents: 10 });
    await exportStage.run(makeCtx(params as unknown as ExportParams, fx.inputs, out));
    const names = [...Deno.readDirSync(`${out}/neuronpedia`)].map((e) => e.name).sort();
    const batches = names.filter((n) => n.startsWith("batch-"));
    const skipped = JSON.parse(await Deno.readTextFile(`${out}/neuronpedia/skipped_indexes.json`)).skipped_indexes;
    let features = 0;
    for (const n of batches) {
      const b = JSON.parse(await Deno.readTextFile(`${out}/neuronpedia/${n}`));
      checkBatch(b);
      assert(b.features.length <= 16);
      features += b.features.length;
    }
    // All 40 latents are covered (the dashboard cap of 10 does not apply), each once.
    assertEquals(features + skipped.length, 40);
    assert(features > 10, `${features} features exported`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
