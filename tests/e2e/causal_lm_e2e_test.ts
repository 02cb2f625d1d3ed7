/**
 * Bring your own causal LM, end to end through the real CLI: the tiny GPT-2 fixture (a plain torch.onnx
 * style export, byte-level BPE) runs every stage; `--set pretokenize.begin_batch_token=eos` takes the
 * bare word; special tokens are left out of the activations by default; tokens read as text in the
 * examples, the tokens view and the dashboard; the plain CE numbers are in eval.json and the dashboard;
 * the short run's dead-latent window is adapted and said so; each latent's top boosted / suppressed tokens
 * (W_dec · W_U) are on its dashboard card (headless Chromium) and in the Neuronpedia batch, checked against
 * a float64 recomputation; `hooks` marks mapped and raw names. A
 * model returning last-position logits fails at the model stage, before anything else runs.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { join } from "node:path";
import { makeTinyGpt2Dir, type TinyGpt2Options } from "../fixtures/tiny_gpt2.ts";
import { readParquet } from "../../stages/io/parquet.ts";
import { lastRun, pipeline, root } from "../fixtures/tiny_pipeline.ts";
import { readSafetensors } from "../../stages/io/safetensors.ts";
import { findUnembedding } from "../../stages/model/unembedding.ts";
import { Browser, chromiumAvailable } from "../export/cdp.ts";

async function setup(model: TinyGpt2Options = {}) {
  const dir = await Deno.makeTempDir({ prefix: "e2e_gpt2_" });
  const m = await makeTinyGpt2Dir(join(dir, "model"), model);
  const config = {
    model: { source: join(dir, "model") },
    pretokenize: { corpus: "brown", context_size: 32, max_tokens: 4096 },
    extract: { hook: "blocks.0.hook_resid_post", batch_size: 16, heldout_fraction: 0.25 },
    train: { d_sae: 64, k: 4, batch_size: 256, training_tokens: 2048, lr: 0.004, log_every: 2 },
    evaluate: { downstream_sequences: 4, top_n: 3, quantile_examples: 1 },
    export: {},
  };
  const cfgPath = join(dir, "pipeline.json");
  await Deno.writeTextFile(cfgPath, JSON.stringify(config));
  return { ...m, cfgPath, store: join(dir, "store") };
}

const u32 = async (path: string) => new Uint32Array((await Deno.readFile(path)).buffer);

Deno.test("e2e causal LM: a GPT-2-architecture export runs every stage with text tokens and CE numbers", async () => {
  const s = await setup();
  const res = await pipeline(["run", "--set", "pretokenize.begin_batch_token=eos"], s);
  assertEquals(res.code, 0, res.text);
  assertMatch(res.text, /CE loss \d+\.\d+ clean \/ \d+\.\d+ with SAE \/ \d+\.\d+ zero-ablated/);
  assertMatch(res.text, /dead_feature_window 200000 tokens is not shorter than the run \(2048 tokens\)/);
  const run = await lastRun(s.store);
  const obj = (stage: string) => join(s.store, "objects", run[stage].key);

  // every sequence starts with <|endoftext|>, and no special-token row reached the activations
  const tokens = await u32(join(obj("pretokenize"), "tokens.bin"));
  assertEquals(tokens[0], s.eosId);
  const meta = JSON.parse(await Deno.readTextFile(join(obj("extract"), "meta.json")));
  assertEquals(meta.excluded_token_ids, [s.eosId]);
  let rows = 0;
  for (const split of ["train", "heldout"]) {
    for (const sh of meta.splits[split].shards) {
      for (const r of await u32(join(obj("extract"), sh.rows))) {
        assert(tokens[r] !== s.eosId, `row ${r} is <|endoftext|>`);
        rows++;
      }
    }
  }
  const nSeq = Math.ceil(4096 / 32);
  assertEquals(rows, 4096 - nSeq, "all tokens but one <|endoftext|> per sequence");

  const ev = JSON.parse(await Deno.readTextFile(join(obj("evaluate"), "eval.json")));
  const d = ev.downstream;
  assertEquals(d.kind, "causal_lm");
  assertEquals(d.ce_loss_without_sae, d.clean_ce_loss);
  assertEquals(d.ce_loss_with_sae, d.spliced.ce_loss);
  assertEquals(d.ce_loss_with_ablation, d.zero_ablation.ce_loss);
  for (const k of ["ce_loss_without_sae", "ce_loss_with_sae", "ce_loss_with_ablation", "fraction_recovered_zero"]) {
    assert(Number.isFinite(d[k]), `${k} = ${d[k]}`);
  }

  // byte-level pieces read as text: no Ġ in the examples, the dashboard or the tokens view
  const examples = await readParquet(join(obj("evaluate"), "examples.parquet"));
  assert(examples.length > 0);
  const text = examples.map((e) => String(e.text)).join("");
  assert(!text.includes("Ġ") && text.includes(" the"), text.slice(0, 200));
  const html = await Deno.readTextFile(join(obj("export"), "dashboard", "index.html"));
  assert(html.includes("ce_loss_with_sae") && html.includes("ce_loss_with_ablation"), "dashboard CE numbers");
  assert(!html.includes("\\u0120") && !html.includes("Ġ"), "dashboard shows raw byte-level pieces");

  // top boosted / suppressed tokens: Neuronpedia's pos_str / neg_str against a float64 W_dec · W_U
  const feats = JSON.parse(await Deno.readTextFile(join(obj("export"), "neuronpedia", "batch-0.json"))).features;
  const u = findUnembedding(await Deno.readFile(join(obj("model"), "onnx", "model.onnx")));
  if (typeof u === "string") throw new Error(u);
  const wDec = (await readSafetensors(join(obj("train"), "sae_weights.safetensors"))).tensors.W_dec
    .data as Float32Array;
  const texts: string[] = JSON.parse(await Deno.readTextFile(join(obj("pretokenize"), "token_text.json")));
  const f = feats[0], l = f.feature_index as number;
  const e = Array.from({ length: u.vocab }, (_, t) => {
    let v = 0;
    for (let j = 0; j < u.d; j++) v += wDec[l * u.d + j] * u.W[j * u.vocab + t];
    return v;
  });
  const order = e.map((_, t) => t).sort((a, b) => e[b] - e[a] || a - b);
  assertEquals(f.pos_str, order.slice(0, 10).map((t) => texts[t]));
  assertEquals(f.neg_str, order.slice(-10).reverse().map((t) => texts[t]));
  f.pos_values.forEach((v: number, i: number) => assert(Math.abs(v - e[order[i]]) <= 1e-4 * Math.abs(v), `${v}`));
  assert(feats.every((x: { pos_str: string[] }) => x.pos_str.length === 10), "every feature has 10 boosted tokens");
  if (chromiumAvailable()) {
    const browser = await Browser.launch();
    try {
      await browser.navigate(`file://${join(obj("export"), "dashboard", "index.html")}#${l}`);
      await browser.until("globalThis.SAE_READY");
      const card = await browser.eval<string[]>(
        `[...document.querySelectorAll('#detail ul[data-card="logits"] li')].map((li) => li.textContent)`,
      );
      const line = (s: string[], v: number[]) => s.map((x, i) => `${JSON.stringify(x)} ${v[i]}`).join(", ");
      assertEquals(card, [`boosted: ${line(f.pos_str, f.pos_values)}`, `suppressed: ${line(f.neg_str, f.neg_values)}`]);
      assertEquals(browser.errors, []);
    } finally {
      await browser.close();
    }
  } else console.warn("causal_lm_e2e: dashboard card not checked, no Chromium");
  const q = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      join(root, "stages/query/cli.ts"),
      "--store",
      s.store,
      "--format",
      "json",
      "SELECT piece, text FROM tokens WHERE piece LIKE 'Ġ%' LIMIT 3",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(q.stdout);
  assertEquals(q.code, 0, out + new TextDecoder().decode(q.stderr));
  const viewRows = JSON.parse(out.slice(out.indexOf("["))) as { piece: string; text: string }[];
  assert(viewRows.length === 3, out);
  for (const r of viewRows) assertEquals(r.text, " " + r.piece.slice(1));

  // inspect --top-logits on the causal LM (cached run): each shown latent gets its boosted/suppressed tokens
  const insp = await pipeline([
    "inspect",
    "the cat sat on the mat",
    "--format",
    "json",
    "--top",
    "2",
    "--top-logits",
    "3",
    "--set",
    "pretokenize.begin_batch_token=eos",
  ], s);
  assertEquals(insp.code, 0, insp.text);
  const ins = JSON.parse(insp.text.slice(insp.text.indexOf("{"), insp.text.lastIndexOf("}") + 1));
  assertEquals(ins.tokens[0].token_id, s.eosId, "the BOS of pretokenize comes first");
  const shown = ins.tokens.flatMap((t: { latents: { boosted?: unknown[]; suppressed?: unknown[] }[] }) => t.latents);
  assert(shown.length > 0 && shown.every((l: { boosted?: unknown[] }) => l.boosted?.length === 3), insp.text);
  assertEquals(ins.notes, []);

  // seqpos_slice reruns extract and what reads it; every stage sees the same kept tokens
  const sliced = await pipeline([
    "run",
    "--set",
    "pretokenize.begin_batch_token=eos",
    "--set",
    "extract.seqpos_slice=[4,null]",
  ], s);
  assertEquals(sliced.code, 0, sliced.text);
  const run2 = await lastRun(s.store);
  assertEquals(Object.values(run2).map((r) => r.status), ["fresh", "fresh", "ran", "ran", "ran", "ran"]);
  const meta2 = JSON.parse(await Deno.readTextFile(join(s.store, "objects", run2.extract.key, "meta.json")));
  for (const sh of meta2.splits.heldout.shards) {
    for (const r of await u32(join(s.store, "objects", run2.extract.key, sh.rows))) assert(r % 32 >= 4, `row ${r}`);
  }
  const ev2 = JSON.parse(await Deno.readTextFile(join(s.store, "objects", run2.evaluate.key, "eval.json")));
  assertEquals(ev2.n_tokens, meta2.splits.heldout.n_tokens);
  assertEquals(meta2.splits.train.n_tokens + meta2.splits.heldout.n_tokens, nSeq * 28);

  const hooks = await pipeline(["hooks"], s);
  assertEquals(hooks.code, 0, hooks.text);
  assertMatch(hooks.text, /blocks\.0\.attn\.hook_q\s+mapped\s+\[batch, sequence, 2, 8\]/);
  assertMatch(hooks.text, /\/transformer\/h\.0\/attn\/Split_output_0\s+raw/);
});

Deno.test("e2e causal LM: nanoGPT-style names (idx, out) and weights in external data run every stage", async () => {
  const s = await setup({ inputName: "idx", outputName: "out", externalData: true });
  const res = await pipeline(["run"], s);
  assertEquals(res.code, 0, res.text);
  const run = await lastRun(s.store);
  const ev = JSON.parse(await Deno.readTextFile(join(s.store, "objects", run.evaluate.key, "eval.json")));
  assertEquals([ev.downstream.kind, ev.downstream.n_sequences], ["causal_lm", 4]);
  assert(Number.isFinite(ev.downstream.ce_loss_with_sae), JSON.stringify(ev.downstream));
});

Deno.test("e2e causal LM: last-position logits fail at the model stage in one line", async () => {
  const s = await setup({ lastPositionLogits: true });
  const res = await pipeline(["run"], s);
  assert(res.code !== 0);
  assertMatch(
    res.text,
    /model output "logits" has shape \[batch, 1, \d+\]: it returns logits for the last position only/,
  );
  const run = await lastRun(s.store);
  assertEquals(Object.keys(run), ["model"]);
  assertEquals(run.model.status, "failed");
});
