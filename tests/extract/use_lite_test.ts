/**
 * Integration: the real USE-lite (model stage) + a slice of the Brown Corpus through pretokenize and
 * extract. Skipped with a message when the model stage module is missing.
 */
import { assert, assertEquals } from "../assert.ts";
import { errorOf, readTree, runStage } from "../pretokenize/run_stage.ts";
import { pretokenizeStage } from "../../stages/pretokenize/mod.ts";
import { extractStage } from "../../stages/extract/mod.ts";
import { BatchFeeds, createSession, runForOutput } from "../../stages/extract/session.ts";
import { exposeHooks } from "../../stages/model/onnx_graph.ts";
import { iterateSplit, readActivationMeta } from "../../stages/io/activations.ts";
import type { Stage } from "../../pipeline/stage.ts";

// A computed specifier: the type check must not require the module to exist.
const modelModule = new URL("../../stages/model/mod.ts", import.meta.url).href;
const modelStage: Stage | null = await import(modelModule)
  .then((m) => m.modelStage as Stage)
  .catch(() => null);
if (!modelStage) console.warn("use_lite_test: stages/model/mod.ts not found, skipping the USE-lite integration test");

Deno.test({
  name: "USE-lite + Brown slice: aligned metadata, activations equal onnxruntime, deterministic, errors",
  ignore: !modelStage,
  async fn() {
    const modelDir = await runStage(modelStage!, {}, {});
    const pt = { shuffle: false, max_tokens: 1000 };
    const tokDir = await runStage(pretokenizeStage, pt, { model: modelDir });
    const meta = JSON.parse(Deno.readTextFileSync(`${tokDir}/meta.json`));
    const vocab: string[] = JSON.parse(Deno.readTextFileSync(`${tokDir}/vocab.json`));
    const tokens = new Uint32Array(Deno.readFileSync(`${tokDir}/tokens.bin`).buffer);
    const tag = new Uint16Array(Deno.readFileSync(`${tokDir}/tag.bin`).buffer);
    assertEquals([meta.n_seq, meta.context_size, meta.n_tokens, meta.vocab_size], [8, 128, 1000, 8000]);
    // ca01: "The/at Fulton/np-tl County/nn-tl ... of/in Atlanta's/np$ recent/jj"
    const line = [0, 1, 2, 3, 4, 12, 13, 14, 15, 16].map((i) => `${vocab[tokens[i]]}/${meta.tags[tag[i]]}`);
    assertEquals(line, [
      "▁The/at",
      "▁F/np-tl",
      "ul/np-tl",
      "ton/np-tl",
      "▁County/nn-tl",
      "▁of/in",
      "▁Atlanta/np$",
      "'/np$",
      "s/np$",
      "▁recent/jj",
    ]);

    const ex = { batch_size: 3, heldout_fraction: 0.25 };
    const actDir = await runStage(extractStage, ex, { model: modelDir, pretokenize: tokDir });
    const am = await readActivationMeta(actDir);
    assertEquals([am.d_in, am.hook_name, am.hook_layer, am.model_name], [
      512,
      "blocks.0.hook_resid_post",
      0,
      "use-lite",
    ]);
    assertEquals([am.splits.train.n_tokens, am.splits.heldout.n_tokens], [768, 232]);
    assert(am.mean_norm > 0);
    // the padded last sequence (7): rows 896..999 only, equal to a direct run of the exposed hook
    const bytes = exposeHooks(Deno.readFileSync(`${modelDir}/onnx/model.onnx`), ["blocks.0.hook_resid_post"]);
    const session = await createSession(bytes);
    const direct = await runForOutput(
      session,
      new BatchFeeds(1, 128).fill(tokens, 7, 1, 1000),
      "blocks.0.hook_resid_post",
    );
    await session.release();
    let maxErr = 0, seen = 0;
    for await (const s of iterateSplit(actDir, "heldout")) {
      for (let r = 0; r < s.n; r++) {
        if (Math.floor(s.rows[r] / 128) !== 7) continue;
        const t = s.rows[r] % 128;
        seen++;
        for (let j = 0; j < 512; j++) maxErr = Math.max(maxErr, Math.abs(s.acts[r * 512 + j] - direct[t * 512 + j]));
      }
    }
    assertEquals(seen, 1000 - 7 * 128);
    assert(maxErr < 1e-4, `max |extract - onnxruntime| = ${maxErr}`);

    const again = readTree(await runStage(extractStage, ex, { model: modelDir, pretokenize: tokDir }));
    for (const [k, v] of readTree(actDir)) assertEquals(v, again.get(k), `${k} differs between runs`);
    const msg = await errorOf(() => runStage(pretokenizeStage, { ...pt, context_size: 256 }, { model: modelDir }));
    assertEquals(
      msg,
      "pretokenize.context_size 256 is above the max positions of use-lite (128); set pretokenize.context_size <= 128",
    );
  },
});
