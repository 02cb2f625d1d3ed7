/**
 * "It learns the truth": synthetic activations from 256 unit directions in 64 dims (4 active per
 * row, non-negative magnitudes, noise 0.01). Training through the whole stage code path must recover
 * ≥ 90% of the directions (some decoder row with cosine > 0.9) with L0 at the target, for every
 * architecture. The saved model, reopened with loadSae, gives the trainer's own validation numbers
 * (explained variance and L0 on the same held-out rows, CPU float64 against the GPU forward pass).
 */
import { assert } from "../assert.ts";
import { recovered, writeSynthetic } from "./synthetic.ts";
import { trainSae } from "../../stages/train/train_loop.ts";
import { resolveParams } from "../../pipeline/params.ts";
import { type TrainParams, trainParams } from "../../stages/train/params.ts";
import { loadSae } from "../../stages/export/load.ts";
import { decode, encode } from "../../stages/train/sae_cpu.ts";
import { firstRows } from "../../stages/train/data.ts";
import { readActivationMeta } from "../../stages/io/activations.ts";

const data = writeSynthetic({ dIn: 64, nDirs: 256, nTrain: 65536, nHeld: 4096, l0: 4, noise: 0.01, seed: 1 });

/** Train through the stage; `prefix`: also the loaded model's EV with only latents [0, prefix) kept. */
async function train(arch: string, over: Record<string, unknown>, prefix?: number) {
  const syn = await data;
  const p = resolveParams("train", trainParams, {
    architecture: arch,
    d_sae: 512,
    k: 4,
    batch_size: 256,
    lr: 0.01,
    lr_decay: "constant",
    training_tokens: 65536,
    log_every: 64,
    checkpoint_every: 0,
    validation_tokens: 4096,
    dead_feature_window: 20000,
    ...over,
  }) as unknown as TrainParams;
  const out = await Deno.makeTempDir();
  const scratch = await Deno.makeTempDir();
  try {
    const summary = await trainSae({ params: p, extractDir: syn.dir, outDir: out, scratchDir: scratch });
    const { weights, cfg } = await loadSae(out);
    // The trainer's val_* metrics: mean over 256-row batches of the first 4096 held-out rows.
    const held = await firstRows(syn.dir, await readActivationMeta(syn.dir), "heldout", 4096);
    const loaded = { ev: 0, l0: 0, prefixEv: 0 };
    const B = 256, D = 64, n = held.length / D / B;
    for (let b = 0; b < n; b++) {
      const x = held.subarray(b * B * D, (b + 1) * B * D);
      const z = encode(weights, cfg, x, B);
      const mean = new Float64Array(D);
      for (let j = 0; j < B * D; j++) mean[j % D] += x[j] / B;
      const ev = (zz: Float64Array) => {
        const xHat = decode(weights, cfg, zz, B);
        let err = 0, tot = 0;
        for (let j = 0; j < B * D; j++) (err += (x[j] - xHat[j]) ** 2), (tot += (x[j] - mean[j % D]) ** 2);
        return 1 - err / tot;
      };
      loaded.ev += ev(z) / n;
      if (prefix) loaded.prefixEv += ev(z.map((v, j) => (j % cfg.d_sae < prefix ? v : 0))) / n;
      loaded.l0 += z.filter((v) => v > 0).length / B / n;
    }
    const final = summary.final as Record<string, number>;
    if (!arch.endsWith("batchtopk")) { // BatchTopK is saved as JumpReLU: its inference rule is not the training one
      assert(
        Math.abs(loaded.ev - final.val_explained_variance) < 1e-3,
        `loaded EV ${loaded.ev} vs ${final.val_explained_variance}`,
      );
      assert(Math.abs(loaded.l0 - final.val_l0) < 0.02, `loaded L0 ${loaded.l0} vs ${final.val_l0}`);
    }
    return { frac: recovered(syn.dirs, weights.W_dec, 64), final, loaded };
  } finally {
    await Deno.remove(out, { recursive: true });
    await Deno.remove(scratch, { recursive: true });
  }
}

Deno.test("topk recovers the true dictionary", async () => {
  const { frac, final } = await train("topk", {});
  assert(frac >= 0.9, `recovered ${frac}`);
  assert(final.val_l0 > 3.5 && final.val_l0 <= 4, `val L0 ${final.val_l0}`);
  assert(final.val_explained_variance > 0.8, `val EV ${final.val_explained_variance}`);
});

Deno.test("topk with tied weights recovers the true dictionary", async () => {
  const { frac, final } = await train("topk", { tied_weights: true });
  assert(frac >= 0.9, `recovered ${frac}`);
  assert(final.val_explained_variance > 0.8, `val EV ${final.val_explained_variance}`);
});

const batchTopkOver = { lr: 0.02, dead_feature_window: 2000, aux_k_coefficient: 0.1 };
let batchTopkRun: ReturnType<typeof train> | undefined; // shared with the Matryoshka test
const batchTopk = () => batchTopkRun ??= train("batchtopk", batchTopkOver, 256);

Deno.test("batchtopk recovers the true dictionary", async () => {
  const { frac, final } = await batchTopk();
  assert(frac >= 0.9, `recovered ${frac}`);
  assert(Math.abs(final.val_l0 - 4) < 0.5, `val L0 ${final.val_l0}`);
});

// Nested prefixes [0, 256) ⊂ [0, 512): the first must reconstruct on its own, so the true directions
// gather there, where a plain BatchTopK SAE spreads them over all 512 latents. Measured (this data,
// 256 steps): EV of the loaded model with only latents < 256 kept, 0.56 against BatchTopK's 0.42; the
// prefix loss costs a little of the full dictionary (recovered 0.91 against 0.97).
Deno.test("matryoshka_batchtopk recovers the true dictionary and fills its first prefix first", async () => {
  const { frac, final, loaded } = await train(
    "matryoshka_batchtopk",
    { ...batchTopkOver, matryoshka_widths: [256] },
    256,
  );
  assert(frac >= 0.85, `recovered ${frac}`);
  assert(Math.abs(final.val_l0 - 4) < 0.5, `val L0 ${final.val_l0}`);
  assert(final.loss > final.mse, `the inner level adds to the loss: ${final.loss} vs ${final.mse}`);
  const plain = (await batchTopk()).loaded.prefixEv;
  assert(loaded.prefixEv > plain + 0.08, `EV of latents < 256: ${loaded.prefixEv}, BatchTopK's ${plain}`);
});

// The penalised SAEs run with their defaults (free-norm decoder rows starting at norm 0.1, see
// normalizesDecoder), only the coefficient and schedule set for this 64-dim toy.
Deno.test("standard recovers the true dictionary", async () => {
  const { frac, final } = await train("standard", { l1_coefficient: 2 });
  assert(frac >= 0.9, `recovered ${frac}`);
  // A ReLU encoder cannot zero the interference of 255 non-orthogonal directions (|cos| ~ 1/8), so
  // small extra activations stay: L0 lands near 3k, not k (JumpReLU's thresholds remove them).
  assert(final.val_l0 > 4 && final.val_l0 < 16, `val L0 ${final.val_l0}`);
  assert(final.val_explained_variance > 0.7, `val EV ${final.val_explained_variance}`);
});

Deno.test("jumprelu recovers the true dictionary", async () => {
  const { frac, final } = await train("jumprelu", { lr: 0.03, lr_decay: "cosine", training_tokens: 98304 });
  assert(frac >= 0.9, `recovered ${frac}`);
  assert(Math.abs(final.val_l0 - 4) < 1, `val L0 ${final.val_l0}`);
  assert(final.val_explained_variance > 0.8, `val EV ${final.val_explained_variance}`);
});

// SAELens's recipe (free-norm rows from norm 0.1, the auxiliary term trains the decoder too); the L1
// term acts on the gate, so L0 lands as the standard SAE's does, above k.
Deno.test("gated recovers the true dictionary", async () => {
  const { frac, final } = await train("gated", { l1_coefficient: 5 });
  assert(frac >= 0.9, `recovered ${frac}`);
  assert(final.val_l0 > 4 && final.val_l0 < 16, `val L0 ${final.val_l0}`);
  assert(final.val_explained_variance > 0.75, `val EV ${final.val_explained_variance}`);
  assert(final.aux_loss > 0, `aux loss ${final.aux_loss}`);
});

Deno.test("cleanup synthetic data", async () => {
  await Deno.remove((await data).dir, { recursive: true });
});
