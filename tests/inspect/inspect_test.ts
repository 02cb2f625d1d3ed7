/**
 * `inspect` on a tiny causal LM (logits = ReLU(E[id]) · W, the ReLU output being blocks.0.hook_resid_post):
 * activations, chosen latents and W_dec · W_U against a float64 recomputation, windows with a BOS token;
 * and the encoder fixture, whose missing unembedding is reported in one note.
 */
import { join } from "node:path";
import { assert, assertAlmostEquals, assertEquals, assertMatch } from "../assert.ts";
import { inspectDirs } from "../../stages/inspect/inspect.ts";
import { formatInspect } from "../../stages/inspect/format.ts";
import { tinyLmGraph } from "../fixtures/tiny_lm.ts";
import { listHooks } from "../../stages/model/onnx_graph.ts";
import { f32, writeSafetensors } from "../../stages/io/safetensors.ts";
import { loadSae } from "../../stages/export/load.ts";
import { encode } from "../../stages/train/sae_cpu.ts";
import { loadModelTokenizer } from "../../stages/pretokenize/tokenizer.ts";
import { Rng } from "../../stages/train/rng.ts";
import { makeTinyModelDir, TINY_D } from "../fixtures/tiny_model.ts";

const D_SAE = 12, K = 3, S = 4, BOS = 1;

async function makeDirs(root: string, causal: boolean) {
  const dirs = {
    model: join(root, "model"),
    pretokenize: join(root, "pretokenize"),
    extract: join(root, "extract"),
    train: join(root, "train"),
  };
  for (const d of Object.values(dirs)) await Deno.mkdir(d, { recursive: true });
  const tiny = await makeTinyModelDir(dirs.model);
  const rng = new Rng(9), V = tiny.vocab.length, d = TINY_D;
  const E = new Float32Array(V * d).map(() => rng.normal()), W = new Float32Array(d * V).map(() => rng.normal());
  if (causal) {
    const bytes = tinyLmGraph(E, W, V, d, "matmul", "blocks.0.hook_resid_post");
    await Deno.writeFile(join(dirs.model, "onnx", "model.onnx"), bytes);
    await Deno.writeTextFile(join(dirs.model, "hooks.json"), JSON.stringify(listHooks(bytes)));
  }
  await Deno.writeTextFile(
    join(dirs.pretokenize, "meta.json"),
    JSON.stringify({ prepend_bos: true, begin_batch_token_id: BOS, bos_token_id: BOS, context_size: S }),
  );
  await Deno.writeTextFile(
    join(dirs.extract, "meta.json"),
    JSON.stringify({ hook_name: "blocks.0.hook_resid_post", context_size: S, d_in: d }),
  );
  await writeSafetensors(join(dirs.train, "sae_weights.safetensors"), {
    W_enc: f32([d, D_SAE], new Float32Array(d * D_SAE).map(() => rng.normal())),
    W_dec: f32([D_SAE, d], new Float32Array(D_SAE * d).map(() => rng.normal())),
    b_enc: f32([D_SAE], new Float32Array(D_SAE).map(() => rng.normal() * 0.1)),
    b_dec: f32([d], new Float32Array(d)),
  });
  await Deno.writeTextFile(
    join(dirs.train, "cfg.json"),
    JSON.stringify({ architecture: "topk", d_in: d, d_sae: D_SAE, k: K, apply_b_dec_to_input: true }),
  );
  return { dirs, E, W, V };
}

Deno.test("inspect: a causal LM's latents and top boosted tokens match a float64 recomputation", async () => {
  const root = await Deno.makeTempDir({ prefix: "inspect_test_" });
  try {
    const { dirs, E, W, V } = await makeDirs(root, true);
    const text = "the cat sat on the mat today";
    const r = await inspectDirs(dirs, { text, top: 2, topLogits: 3 });
    // Windows of S = 4 positions: BOS + 3 text tokens each.
    const ids = (await loadModelTokenizer(dirs.model)).encode(text);
    const expectIds = ids.flatMap((t, i) => (i % 3 === 0 ? [BOS, t] : [t]));
    assertEquals(r.tokens.map((t) => t.token_id), expectIds);
    const { weights, cfg } = await loadSae(dirs.train);
    const d = TINY_D;
    const x = new Float32Array(expectIds.length * d);
    expectIds.forEach((id, p) => {
      for (let j = 0; j < d; j++) x[p * d + j] = Math.max(0, E[id * d + j]);
    });
    const z = encode(weights, cfg, x, expectIds.length);
    r.tokens.forEach((t, p) => {
      const ranked = Array.from({ length: D_SAE }, (_, l) => l).filter((l) => z[p * D_SAE + l] > 0)
        .sort((a, b) => z[p * D_SAE + b] - z[p * D_SAE + a]).slice(0, 2);
      assertEquals(t.latents.map((l) => l.latent), ranked);
      t.latents.forEach((l) => assertAlmostEquals(l.activation, z[p * D_SAE + l.latent], 1e-4));
    });
    // W_dec[l] · W_U by brute force for the first shown latent.
    const l0 = r.tokens[1].latents[0];
    const logits = Array.from({ length: V }, (_, t) => {
      let s = 0;
      for (let j = 0; j < d; j++) s += weights.W_dec[l0.latent * d + j] * W[j * V + t];
      return s;
    });
    const best = Array.from(logits.keys()).sort((a, b) => logits[b] - logits[a]).slice(0, 3);
    const vocab = (await loadModelTokenizer(dirs.model)).vocab;
    assertEquals(l0.boosted!.map((b) => b.token), best.map((t) => vocab[t]));
    assertAlmostEquals(l0.boosted![0].logit, logits[best[0]], 1e-4);
    assertEquals(l0.suppressed!.length, 3);
    assertEquals(r.notes, ["no evaluate output: frequencies and labels are not shown"]);
    assertMatch(formatInspect(r), /boosts \/ suppresses/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("inspect: the encoder fixture has no unembedding, said in one note", async () => {
  const root = await Deno.makeTempDir({ prefix: "inspect_test_" });
  try {
    const { dirs } = await makeDirs(root, false);
    const r = await inspectDirs(dirs, { text: "the cat", topLogits: 2 });
    assert(r.tokens.length >= 2);
    assert(r.tokens.every((t) => t.latents.every((l) => l.boosted === undefined)));
    assert(r.notes.some((n) => /^--top-logits skipped: the model has no `logits` output/.test(n)), r.notes.join("; "));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
