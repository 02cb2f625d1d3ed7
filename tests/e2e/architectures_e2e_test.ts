/**
 * The new training options through the real CLI on the tiny config (tests/e2e/pipeline_e2e_test.ts): a
 * gated SAE, a Matryoshka BatchTopK SAE, and a tied-weight TopK SAE with dead-latent resampling each run
 * model → export; evaluate reads them, the SAELens folder has the architecture's layout and reopens.
 */
import { assert, assertEquals } from "../assert.ts";
import { join } from "node:path";
import { makeTinyModelDir } from "../fixtures/tiny_model.ts";
import { lastRun, pipeline, tinySetup } from "../fixtures/tiny_pipeline.ts";
import { loadSae } from "../../stages/export/load.ts";
import { readParquet } from "../../stages/io/parquet.ts";
import { decodeSafetensors } from "../../stages/io/safetensors.ts";

Deno.test("e2e: gated, matryoshka_batchtopk and tied + resampled topk train, evaluate and export", async () => {
  const dir = await Deno.makeTempDir({ prefix: "e2e_arch_" });
  try {
    await makeTinyModelDir(join(dir, "model")); // one model and store: later cases reuse model → extract
    const cases: [Record<string, unknown>, string, string[]][] = [
      [{ architecture: "gated", l1_coefficient: 5 }, "gated", ["W_dec", "W_enc", "b_dec", "b_gate", "b_mag", "r_mag"]],
      [
        { architecture: "matryoshka_batchtopk", matryoshka_widths: [16, 32] },
        "jumprelu",
        ["W_dec", "W_enc", "b_dec", "b_enc", "threshold"],
      ],
      [
        { architecture: "topk", tied_weights: true, resample_every: 4, dead_feature_window: 512 },
        "topk",
        ["W_dec", "W_enc", "b_dec", "b_enc"],
      ],
    ];
    for (const [train, exported, tensors] of cases) {
      const setup = await tinySetup(train, {}, dir);
      const out = await pipeline(["run"], setup);
      assertEquals(out.code, 0, `${train.architecture}: ${out.text}`);
      const run = await lastRun(setup.store);
      const store = setup.store;
      const obj = (stage: string) => join(store, "objects", run[stage].key);
      const folder = join(obj("export"), "saelens");
      const cfg = JSON.parse(await Deno.readTextFile(join(folder, "cfg.json")));
      assertEquals(cfg.architecture, exported);
      assertEquals(cfg.metadata.training_architecture, train.architecture);
      const names = Object.keys(
        decodeSafetensors(await Deno.readFile(join(folder, "sae_weights.safetensors"))).tensors,
      );
      assertEquals(names.sort(), tensors);
      const sae = await loadSae(folder);
      assertEquals(sae.architecture, exported);
      const ev = JSON.parse(await Deno.readTextFile(join(obj("evaluate"), "eval.json")));
      assert(
        ev.explained_variance > 0 && ev.explained_variance < 1,
        `${train.architecture}: EV ${ev.explained_variance}`,
      );
      if (train.resample_every) {
        const log = await readParquet(join(obj("train"), "train_log.parquet"));
        assert(log.some((r) => Number(r.resampled_latents) > 0), "resampled some latents");
        // tied in the trainer's scaled space; the export folds the scale s in (W_enc·s, W_dec/s)
        const s2 = cfg.metadata.activation_scaling_factor ** 2;
        const w = sae.weights;
        for (let i = 0; i < 64; i++) {
          for (let d = 0; d < 16; d++) {
            const want = s2 * w.W_dec[i * 16 + d];
            assert(Math.abs(w.W_enc[d * 64 + i] - want) <= 1e-5 * Math.abs(want) + 1e-7, `W_enc[${d}, ${i}]`);
          }
        }
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
