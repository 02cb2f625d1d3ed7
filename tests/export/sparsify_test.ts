import { assert, assertAlmostEquals, assertEquals, assertMatch, assertThrows } from "../assert.ts";
import { buildSaelens, writeSaelens } from "../../stages/export/saelens.ts";
import { buildSparsify, sparsifyUnsupported, writeSparsify } from "../../stages/export/sparsify.ts";
import { loadSae } from "../../stages/export/load.ts";
import { decodeSafetensors } from "../../stages/io/safetensors.ts";
import { makeFixture, randn, rng } from "./fixtures.ts";

/** sparsify's SparseCoder.encode/decode in float64, from its source (relu, then top-k; decode z·W_dec + b_dec). */
function sparsifyForward(t: Record<string, Float32Array>, x: Float32Array, n: number, dIn: number, k: number) {
  const dSae = t["encoder.bias"].length;
  const xHat = new Float64Array(n * dIn);
  const z = new Float64Array(n * dSae);
  for (let r = 0; r < n; r++) {
    const pre = Array.from({ length: dSae }, (_, j) => {
      let s = t["encoder.bias"][j];
      for (let i = 0; i < dIn; i++) s += (x[r * dIn + i] - t.b_dec[i]) * t["encoder.weight"][j * dIn + i];
      return Math.max(0, s);
    });
    const top = pre.map((v, j) => [v, j]).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, k);
    for (const [v, j] of top) z[r * dSae + j] = v;
    for (let i = 0; i < dIn; i++) {
      let s = t.b_dec[i];
      for (const [v, j] of top) s += v * t.W_dec[j * dIn + i];
      xHat[r * dIn + i] = s;
    }
  }
  return { z, xHat };
}

Deno.test("sparsify layout: cfg fields, tensor names and shapes; sparsify's forward equals our exported SAE", async () => {
  const root = await Deno.makeTempDir();
  try {
    const dIn = 12, dSae = 30, k = 4;
    const fx = await makeFixture(root, { arch: "topk", dIn, dSae, k, seed: 5, logSteps: 1 });
    const cfg = JSON.parse(buildSaelens({ trainCfg: fx.trainCfg, weights: fx.weights, density: null })["cfg.json"]);
    const folder = await writeSparsify(`${root}/sparsify`, cfg, fx.weights);
    assertEquals(folder, `${root}/sparsify/blocks.0.hook_resid_post`);

    const sc = JSON.parse(await Deno.readTextFile(`${folder}/cfg.json`));
    assertEquals(sc, {
      activation: "topk",
      expansion_factor: 3,
      normalize_decoder: true,
      num_latents: dSae,
      k,
      multi_topk: false,
      skip_connection: false,
      transcode: false,
      d_in: dIn,
    });
    const st = decodeSafetensors(await Deno.readFile(`${folder}/sae.safetensors`));
    const shapes = Object.fromEntries(Object.entries(st.tensors).map(([n, t]) => [n, [t.dtype, ...t.shape]]));
    assertEquals(shapes, {
      "encoder.weight": ["F32", dSae, dIn],
      "encoder.bias": ["F32", dSae],
      W_dec: ["F32", dSae, dIn],
      b_dec: ["F32", dIn],
    });

    // The same SAE: sparsify's forward on these tensors vs. our SAELens folder through loadSae.
    await writeSaelens(`${root}/saelens`, { trainCfg: fx.trainCfg, weights: fx.weights, density: null });
    const ours = await loadSae(`${root}/saelens`);
    const n = 7, x = randn(rng(11), n * dIn, 2);
    const t = Object.fromEntries(Object.entries(st.tensors).map(([name, v]) => [name, v.data as Float32Array]));
    const ref = sparsifyForward(t, x, n, dIn, k);
    const z = ours.encode(x, n), xHat = ours.decode(z, n);
    for (let i = 0; i < z.length; i++) assertAlmostEquals(z[i], ref.z[i], 1e-5 * (1 + Math.abs(ref.z[i])));
    for (let i = 0; i < xHat.length; i++) assertAlmostEquals(xHat[i], ref.xHat[i], 1e-4 * (1 + Math.abs(ref.xHat[i])));
    assert(z.some((v) => v > 0));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("sparsify layout: only TopK SAEs, with a reason for the others", async () => {
  const root = await Deno.makeTempDir();
  try {
    const fx = await makeFixture(root, { arch: "batchtopk", dIn: 6, dSae: 10, k: 2, seed: 1, logSteps: 1 });
    const cfg = JSON.parse(buildSaelens({ trainCfg: fx.trainCfg, weights: fx.weights, density: null })["cfg.json"]);
    assertMatch(sparsifyUnsupported(cfg)!, /TopK coders only \(this SAE is jumprelu\)/);
    assertEquals(sparsifyUnsupported({ ...cfg, architecture: "topk" }), null);
    assertMatch(assertThrows(() => buildSparsify(cfg, fx.weights)).message, /no sparsify layout/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("sparsify layout: a TopK transcoder only with d_out = d_in (sparsify sizes its decoder by d_in)", () => {
  const cfg = { architecture: "topk_transcoder", d_in: 6, d_out: 6, apply_b_dec_to_input: false };
  assertEquals(sparsifyUnsupported(cfg), null);
  assertEquals(sparsifyUnsupported({ ...cfg, architecture: "topk_skip_transcoder" }), null);
  const why = sparsifyUnsupported({ ...cfg, d_out: 9 })!;
  assertMatch(why, /sizes W_dec and b_dec by d_in \(this transcoder: d_in 6, d_out 9\)/);
  assertEquals(why.includes("\n"), false);
});
