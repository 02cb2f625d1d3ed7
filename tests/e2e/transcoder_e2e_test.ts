/**
 * Transcoders through the real CLI on the tiny config (tests/fixtures/tiny_pipeline.ts): train.target_hook
 * makes extract write both hooks from one pass; a transcoder (ln2 → mlp.hook_post, d_out ≠ d_in) and a skip
 * transcoder (ln2 → hook_mlp_out) and a resampled JumpReLU transcoder train, evaluate (metrics on the target, the target hook spliced downstream)
 * and export in SAELens's transcoder layout, which loadSae reopens with the train stage's own outputs. Then
 * the cache: a plain SAE on either hook reuses the paired run's extract (its plain siblings), nothing else.
 */
import { assert, assertEquals } from "../assert.ts";
import { join } from "node:path";
import { makeTinyModelDir, TINY_D, TINY_D_MLP } from "../fixtures/tiny_model.ts";
import { lastRun, pipeline, tinySetup } from "../fixtures/tiny_pipeline.ts";
import { loadSae } from "../../stages/export/load.ts";
import { readActivationMeta, readShard } from "../../stages/io/activations.ts";
import { decodeSafetensors } from "../../stages/io/safetensors.ts";

const INPUT = "blocks.0.ln2.hook_normalized";
// measured (this seed): EV of the target 0.81 (transcoder) and 0.86 (skip), downstream recovered 0.97 / 0.985
const TUNED = { training_tokens: 16384, lr: 0.01 };
const extract = { extract: { hook: INPUT, batch_size: 16, heldout_fraction: 0.25 } };

Deno.test("e2e: transcoder and skip transcoder train, evaluate, export and reopen; plain SAEs reuse the extract", async () => {
  const dir = await Deno.makeTempDir({ prefix: "e2e_tc_" });
  try {
    await makeTinyModelDir(join(dir, "model"));
    const cases = [
      {
        train: { architecture: "standard", target_hook: "blocks.0.mlp.hook_post", l1_coefficient: 0.3, ...TUNED },
        arch: "transcoder",
        dOut: TINY_D_MLP,
        tensors: ["W_dec", "W_enc", "b_dec", "b_enc"],
      },
      {
        train: {
          architecture: "standard",
          target_hook: "blocks.0.hook_mlp_out",
          skip_transcoder: true,
          l1_coefficient: 0.3,
          ...TUNED,
        },
        arch: "skip_transcoder",
        dOut: TINY_D,
        tensors: ["W_dec", "W_enc", "W_skip", "b_dec", "b_enc"],
      },
      {
        // measured: EV 0.94, 5 latents resampled
        train: {
          architecture: "jumprelu",
          target_hook: "blocks.0.hook_mlp_out",
          d_sae: 256,
          resample_every: 8,
          dead_feature_window: 512,
          ...TUNED,
        },
        arch: "jumprelu_transcoder",
        dOut: TINY_D,
        tensors: ["W_dec", "W_enc", "b_dec", "b_enc", "threshold"],
      },
    ];
    const extractKeys: string[] = [];
    for (const c of cases) {
      const setup = await tinySetup(c.train, extract, dir);
      const out = await pipeline(["run"], setup);
      assertEquals(out.code, 0, `${c.arch}: ${out.text}`);
      const run = await lastRun(setup.store);
      const obj = (stage: string) => join(setup.store, "objects", run[stage].key);
      extractKeys.push(run.extract.key);
      // the paired object: the input rows, and the target's in target/ with the same row indices
      const x = await readActivationMeta(obj("extract"));
      const y = await readActivationMeta(join(obj("extract"), "target"));
      assertEquals([x.hook_name, x.d_in, y.hook_name, y.d_in], [INPUT, TINY_D, c.train.target_hook, c.dOut]);
      const xs = await readShard(obj("extract"), x.splits.heldout.shards[0], TINY_D);
      const ys = await readShard(join(obj("extract"), "target"), y.splits.heldout.shards[0], c.dOut);
      assertEquals(ys.rows, xs.rows);

      const folder = join(obj("export"), "saelens");
      const cfg = JSON.parse(await Deno.readTextFile(join(folder, "cfg.json")));
      assertEquals(
        [cfg.architecture, cfg.d_in, cfg.d_out, cfg.hook_name, cfg.hook_name_out, cfg.hook_layer_out],
        [c.arch, TINY_D, c.dOut, INPUT, c.train.target_hook, 0],
      );
      assertEquals(cfg.apply_b_dec_to_input, false);
      assertEquals(cfg.hook_head_index_out, null);
      const file = decodeSafetensors(await Deno.readFile(join(folder, "sae_weights.safetensors"))).tensors;
      assertEquals(Object.keys(file).sort(), c.tensors);
      if (file.W_skip) assertEquals(file.W_skip.shape, [c.dOut, TINY_D]); // SAELens: [d_out, d_in]

      // loadSae of the export equals loadSae of the train stage's own output, and ŷ is [n, d_out]
      const sae = await loadSae(folder), trained = await loadSae(obj("train"));
      const n = 8, xb = xs.acts.subarray(0, n * TINY_D);
      const yhat = sae.forward(xb, n);
      assertEquals(yhat.length, n * c.dOut);
      assertEquals(yhat, trained.forward(xb, n));
      assertEquals(sae.encode(xb, n), trained.encode(xb, n));

      const ev = JSON.parse(await Deno.readTextFile(join(obj("evaluate"), "eval.json")));
      assertEquals([ev.architecture, ev.hook_name_out, ev.d_out, ev.metrics_measured_on], [
        c.arch,
        c.train.target_hook,
        c.dOut,
        "hook_name_out",
      ]);
      assert(
        ev.explained_variance > 0.6 && ev.explained_variance < 1,
        `${c.arch}: EV of the target ${ev.explained_variance}`,
      );
      // the saved (scale-folded, W_skip transposed) model gives the trainer's own held-out EV of y
      const summary = JSON.parse(await Deno.readTextFile(join(obj("train"), "train_summary.json")));
      const valEv = summary.final.val_explained_variance;
      if ("resample_every" in c.train) assert(summary.resampled_latents > 0, `resampled ${summary.resampled_latents}`);
      assert(
        Math.abs(ev.explained_variance - valEv) < 0.03,
        `${c.arch}: evaluate EV ${ev.explained_variance}, train ${valEv}`,
      );
      const d = ev.downstream; // the tiny model is an encoder: embedding metrics, no CE
      assertEquals([d.hook_tensor, d.input_hook_tensor], [c.train.target_hook, INPUT]);
      assert(Number.isFinite(d.spliced.sentence_embedding_mse), JSON.stringify(d));
      // spliced at the target, the transcoder's output is far closer to the clean model than zero-ablating it
      assert(
        d.fraction_recovered_zero > 0.8 && d.fraction_recovered_zero <= 1,
        `recovered ${d.fraction_recovered_zero}`,
      );
    }
    assert(extractKeys[0] !== extractKeys[1], "each target is its own paired extract object");
    assertEquals(extractKeys[1], extractKeys[2], "the same (input, target) pair reuses its extract object");

    // a plain SAE on the input hook, then on a target hook: extract is a cache hit (the paired runs' siblings)
    for (const hook of [INPUT, "blocks.0.hook_mlp_out"]) {
      const setup = await tinySetup({}, { extract: { ...extract.extract, hook } }, dir);
      const out = await pipeline(["run"], setup);
      assertEquals(out.code, 0, out.text);
      const run = await lastRun(setup.store);
      assertEquals(
        ["model", "pretokenize", "extract", "train"].map((s) => run[s].status),
        ["fresh", "fresh", "fresh", "ran"],
        hook,
      );
      const meta = await readActivationMeta(join(setup.store, "objects", run.extract.key));
      assertEquals([meta.hook_name, meta.target_dir], [hook, undefined]);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("e2e: transcoder config mistakes fail with one line naming the key", async () => {
  const dir = await Deno.makeTempDir({ prefix: "e2e_tc_bad_" });
  try {
    await makeTinyModelDir(join(dir, "model"));
    const bad: [Record<string, unknown>, Record<string, unknown>, RegExp][] = [
      [
        { architecture: "matryoshka_batchtopk", target_hook: "blocks.0.hook_mlp_out" },
        {},
        /train\.target_hook.*matryoshka_batchtopk/,
      ],
      [
        { architecture: "batchtopk", target_hook: "blocks.0.hook_mlp_out", skip_transcoder: true },
        {},
        /train\.skip_transcoder.*batchtopk/,
      ],
      [{ architecture: "standard", target_hook: INPUT }, {}, /train\.target_hook.*extract\.hook itself/],
      [{ architecture: "standard", skip_transcoder: true }, {}, /train\.skip_transcoder.*needs train\.target_hook/],
      [
        { architecture: "jumprelu", target_hook: "blocks.0.hook_mlp_out", skip_transcoder: true },
        {},
        /skip_transcoder/,
      ],
      [{ architecture: "standard", target_hook: "blocks.0.hook_mlp_out", tied_weights: true }, {}, /tied_weights/],
      [
        { architecture: "standard", target_hook: "blocks.0.hook_mlp_out" },
        { hooks: [INPUT, "blocks.1.hook_resid_post"] },
        /train\.target_hook.*extract\.hooks/,
      ],
      [{ architecture: "standard", target_hook: "blocks.0.hook_nothing" }, {}, /train\.target_hook.*hook_nothing/],
    ];
    for (const [train, ex, re] of bad) {
      const setup = await tinySetup(train, { extract: { ...extract.extract, ...ex } }, dir);
      const out = await pipeline(["run", "--until", "train"], setup);
      assert(out.code !== 0, `${JSON.stringify(train)} should fail`);
      const lines = out.text.trim().split("\n").filter((l) => re.test(l));
      assert(lines.length >= 1, `${JSON.stringify(train)}: ${out.text}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
