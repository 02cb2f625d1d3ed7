import { assert, assertEquals, assertMatch } from "../assert.ts";
import { makeTinyModelDir, tinyModelForward } from "../fixtures/tiny_model.ts";
import { errorOf, readTree, runStage, tempDir } from "../pretokenize/run_stage.ts";
import { pretokenizeStage } from "../../stages/pretokenize/mod.ts";
import { extractStage } from "../../stages/extract/mod.ts";
import { isHeldout } from "../../stages/extract/split.ts";
import { BatchFeeds, createSession, runForOutput } from "../../stages/extract/session.ts";
import { exposeHooks, loadModelProto } from "../../stages/model/onnx_graph.ts";
import { graphUpToHook } from "../../stages/extract/truncate.ts";
import { iterateSplit, readActivationMeta } from "../../stages/io/activations.ts";

const modelDir = tempDir("tiny-model-");
const tiny = await makeTinyModelDir(modelDir);
const C = 32;
// 1000 tokens in 32-token sequences: 31 full ones and a padded last one (8 real tokens).
const tokDir = await runStage(pretokenizeStage, { context_size: C, max_tokens: 1000, seed: 3 }, { model: modelDir });
const tokens = new Uint32Array(Deno.readFileSync(`${tokDir}/tokens.bin`).buffer);
const inputs = { model: modelDir, pretokenize: tokDir };
const cfg = { batch_size: 5, heldout_fraction: 0.25, shard_tokens: 100 };

async function readSplit(dir: string, split: string) {
  const rows: number[] = [];
  const acts: Float32Array[] = [];
  for await (const s of iterateSplit(dir, split)) {
    rows.push(...s.rows);
    acts.push(s.acts);
  }
  const flat = new Float32Array(acts.reduce((a, b) => a + b.length, 0));
  let o = 0;
  for (const a of acts) flat.set(a, o), o += a.length;
  return { rows, acts: flat };
}

Deno.test("extract: shards, meta, split by sequence, padding rows dropped", async () => {
  const out = await runStage(extractStage, cfg, inputs);
  const meta = await readActivationMeta(out);
  assertEquals([meta.d_in, meta.hook_name, meta.hook_layer, meta.context_size], [16, "blocks.0.hook_resid_post", 0, C]);
  assertEquals([meta.model_name, meta.dtype, meta.dataset_path], ["tiny-test-model", "float32", "brown"]);
  const train = await readSplit(out, "train"), held = await readSplit(out, "heldout");
  assertEquals(meta.splits.train.n_tokens + meta.splits.heldout.n_tokens, 1000);
  assertEquals(train.rows.length, meta.splits.train.n_tokens);
  assertEquals(meta.splits.train.shards.map((s) => s.n).slice(0, 2), [100, 100]);
  assertEquals(meta.splits.train.shards[0].acts, "train/acts-00000.bin");
  // every real token exactly once, padding (flat index >= 1000) never
  assertEquals([...train.rows, ...held.rows].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  // held-out sequences: 8 of the 32 (every 4th), whole sequences only
  const heldSeqs = new Set(held.rows.map((r) => Math.floor(r / C)));
  assertEquals([...heldSeqs], [3, 7, 11, 15, 19, 23, 27, 31]);
  assert(heldSeqs.size === Array.from({ length: 32 }, (_, s) => s).filter((s) => isHeldout(s, 0.25)).length);
  assertEquals(held.rows.length, 7 * C + 8);
  // mean_norm is the mean L2 norm of the train rows
  let norm = 0;
  for (let r = 0; r < train.rows.length; r++) {
    let s = 0;
    for (let j = 0; j < 16; j++) s += train.acts[r * 16 + j] ** 2;
    norm += Math.sqrt(s);
  }
  assert(Math.abs(meta.mean_norm - norm / train.rows.length) < 1e-6 * meta.mean_norm);
});

Deno.test("extract: rows equal a direct onnxruntime run of the exposed hook and the float64 reference", async () => {
  const out = await runStage(extractStage, { ...cfg, hook: "blocks.1.hook_mlp_out" }, inputs);
  const train = await readSplit(out, "train"), held = await readSplit(out, "heldout");
  const rows = [...train.rows, ...held.rows];
  const acts = new Float32Array([...train.acts, ...held.acts]);
  const session = await createSession(
    exposeHooks(Deno.readFileSync(`${modelDir}/onnx/model.onnx`), ["blocks.1.hook_mlp_out"]),
  );
  const feeds = new BatchFeeds(1, C);
  for (const seq of [0, 30, 31]) {
    // one sequence alone (batch 1), the padded last one included
    const direct = await runForOutput(session, feeds.fill(tokens, seq, 1, 1000), "blocks.1.hook_mlp_out");
    const ids = [[...tokens.subarray(seq * C, seq * C + C)]];
    const mask = [ids[0].map((_, t) => (seq * C + t < 1000 ? 1 : 0))];
    const ref = tinyModelForward(tiny.weights, ids, mask)["blocks.1.hook_mlp_out"];
    let checked = 0;
    rows.forEach((flat, r) => {
      if (Math.floor(flat / C) !== seq) return;
      const t = flat % C;
      for (let j = 0; j < 16; j++) {
        const v = acts[r * 16 + j];
        assert(Math.abs(v - direct[t * 16 + j]) <= 1e-5 * (1 + Math.abs(v)), `row ${flat}[${j}] vs onnxruntime`);
        assert(Math.abs(v - ref[t * 16 + j]) <= 1e-4 * (1 + Math.abs(v)), `row ${flat}[${j}] vs float64 reference`);
      }
      checked++;
    });
    assertEquals(checked, seq === 31 ? 8 : C);
  }
  await session.release();
});

Deno.test("extract: deterministic, and max_tokens keeps the uncapped values of the rows it keeps", async () => {
  const a = readTree(await runStage(extractStage, cfg, inputs));
  const b = readTree(await runStage(extractStage, cfg, inputs));
  assertEquals([...a.keys()].length, [...b.keys()].length);
  for (const [k, v] of a) assertEquals(v, b.get(k), `${k} differs between runs`);
  const full = await runStage(extractStage, { ...cfg, heldout_fraction: 0 }, inputs);
  const capped = await runStage(extractStage, { ...cfg, heldout_fraction: 0, max_tokens: 70 }, inputs);
  const f = await readSplit(full, "train"), c = await readSplit(capped, "train");
  assertEquals(c.rows, Array.from({ length: 70 }, (_, i) => i));
  for (let i = 0; i < 70 * 16; i++) assert(Math.abs(c.acts[i] - f.acts[i]) <= 1e-6 * (1 + Math.abs(f.acts[i])));
  assertEquals((await readActivationMeta(capped)).splits.heldout.n_tokens, 0);
});

Deno.test("extract: one-line errors for an unknown hook, a non-per-token hook, a model without onnx", async () => {
  const run = (o: Record<string, unknown>, inp = inputs) => errorOf(() => runStage(extractStage, o, inp));
  const cases: [Promise<string>, RegExp][] = [
    [
      run({ hook: "blocks.0.hook_resid_pots" }),
      /unknown hook "blocks.0.hook_resid_pots" — close matches: blocks.0.hook_resid_post/,
    ],
    [run({ hook: "blocks.0.attn.hook_pattern" }), /has shape \[batch, 2, seq, seq\]: extract needs a per-token/],
    [
      run({}, { model: tempDir(), pretokenize: tokDir }),
      /has no onnx\/model\.onnx: re-run the model stage/,
    ],
  ];
  for (const [p, re] of cases) {
    const msg = await p;
    assertMatch(msg, re);
    assert(!msg.includes("\n"), `multi-line error: ${msg}`);
  }
});

Deno.test("extract: a per-head hook (attn.hook_z) is flattened to H x d_head per token", async () => {
  const out = await runStage(extractStage, { ...cfg, hook: "blocks.0.attn.hook_z", max_tokens: 64 }, inputs);
  const meta = await readActivationMeta(out);
  assertEquals(meta.d_in, 16);
  assertEquals(meta.n_tokens, 64);
});

Deno.test("truncate: the graph cut at a block-0 hook keeps block 0 only and outputs just the hook", () => {
  const full = loadModelProto(Deno.readFileSync(`${modelDir}/onnx/model.onnx`)).graph!;
  const cut = loadModelProto(
    graphUpToHook(Deno.readFileSync(`${modelDir}/onnx/model.onnx`), "blocks.0.hook_resid_post"),
  )
    .graph!;
  assertEquals(cut.output!.map((o) => o.name), ["blocks.0.hook_resid_post"]);
  const outs = cut.node!.flatMap((n) => n.output ?? []);
  assert(outs.includes("blocks.0.mlp.hook_post") && !outs.some((o) => o.startsWith("blocks.1.")));
  assert(cut.node!.length < full.node!.length * 0.7, `${cut.node!.length} of ${full.node!.length} nodes kept`);
  assert(!cut.initializer!.some((t) => t.name!.startsWith("blocks.1.")));
  assertEquals(cut.input!.map((i) => i.name), ["input_ids", "attention_mask"]);
});
