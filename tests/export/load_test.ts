import { assert, assertEquals, assertMatch, assertRejects } from "../assert.ts";
import { loadSae } from "../../stages/export/load.ts";
import { writeSaelens } from "../../stages/export/saelens.ts";
import { encode as trainEncode } from "../../stages/train/sae_cpu.ts";
import { f32, writeSafetensors } from "../../stages/io/safetensors.ts";
import { makeFixture, randn, rng } from "./fixtures.ts";

Deno.test("loadSae: the exported BatchTopK SAE (as JumpReLU) gives the train directory's latents, decode inverts on its span", async () => {
  const root = await Deno.makeTempDir();
  try {
    const fx = await makeFixture(root, { arch: "batchtopk", dIn: 12, dSae: 30, k: 3, seed: 21, logSteps: 2 });
    await writeSaelens(`${root}/saelens`, { trainCfg: fx.trainCfg, weights: fx.weights, density: fx.density });
    const sae = await loadSae(`${root}/saelens`);
    assertEquals([sae.architecture, sae.dIn, sae.dSae, sae.k], ["jumprelu", 12, 30, undefined]);
    const n = 9, x = randn(rng(4), n * 12, 2);
    const train = await loadSae(fx.inputs.train);
    const want = trainEncode(train.weights, train.cfg, x, n);
    const z = sae.encode(x, n);
    assertEquals(z, Float32Array.from(want));
    assert(z.some((v) => v > 0));
    // decode(one-hot latent j) − decode(0) = W_dec[j].
    const one = new Float32Array(30), zero = new Float32Array(30);
    one[7] = 1;
    const d1 = sae.decode(one, 1), d0 = sae.decode(zero, 1);
    const row = (fx.weights.W_dec.data as Float32Array).subarray(7 * 12, 8 * 12);
    for (let i = 0; i < 12; i++) assert(Math.abs(d1[i] - d0[i] - row[i]) < 1e-6);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("loadSae: SAELens-5 TopK cfg (k only in activation_fn_kwargs) loads; clear errors on bad folders", async () => {
  const root = await Deno.makeTempDir();
  try {
    const dIn = 4, dSae = 6, r = rng(2);
    const w = {
      W_enc: f32([dIn, dSae], randn(r, dIn * dSae)),
      W_dec: f32([dSae, dIn], randn(r, dSae * dIn)),
      b_enc: f32([dSae], randn(r, dSae)),
      b_dec: f32([dIn], randn(r, dIn)),
    };
    await writeSafetensors(`${root}/sae_weights.safetensors`, w);
    const cfg = {
      architecture: "topk",
      d_in: dIn,
      d_sae: dSae,
      activation_fn_kwargs: { k: 2 },
      apply_b_dec_to_input: false,
    };
    await Deno.writeTextFile(`${root}/cfg.json`, JSON.stringify(cfg));
    const sae = await loadSae(root);
    assertEquals(sae.k, 2);
    const z = sae.encode(Float32Array.from([1, -2, 0.5, 3]), 1);
    assert(z.filter((v) => v !== 0).length <= 2);

    const e1 = await assertRejects(() => loadSae(`${root}/missing`));
    assertMatch(e1.message, /is not a SAELens folder/);
    await Deno.writeTextFile(`${root}/cfg.json`, JSON.stringify({ ...cfg, d_sae: 7 }));
    const e2 = await assertRejects(() => loadSae(root));
    assertMatch(e2.message, /W_enc.*shape \[4,6\].*\[4,7\]/);
    await Deno.writeTextFile(`${root}/cfg.json`, JSON.stringify({ ...cfg, architecture: "crosscoder" }));
    const e3 = await assertRejects(() => loadSae(root));
    assertMatch(e3.message, /crosscoder/);
    await Deno.writeTextFile(`${root}/cfg.json`, JSON.stringify({ ...cfg, architecture: "gated" }));
    const e4 = await assertRejects(() => loadSae(root));
    assertMatch(e4.message, /lack tensor "b_gate"/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
