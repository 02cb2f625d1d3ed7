import { assert, assertAlmostEquals, assertEquals, assertMatch, assertThrows } from "../assert.ts";
import { buildSaelens, writeSaelens } from "../../stages/export/saelens.ts";
import { loadSae } from "../../stages/export/load.ts";
import { makeFixture, randn, rng, type TrainArch } from "./fixtures.ts";

/** Parse a safetensors file by hand (independent of stages/io/safetensors.ts). */
function parseRaw(bytes: Uint8Array) {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const headerText = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  const header = JSON.parse(headerText) as Record<
    string,
    { dtype: string; shape: number[]; data_offsets: [number, number] }
  >;
  const f32At = (name: string) => {
    const [b, e] = header[name].data_offsets;
    return new Float32Array(bytes.slice(8 + n + b, 8 + n + e).buffer);
  };
  return { n, headerText, header, f32At, dataBytes: bytes.length - 8 - n };
}

/** Float64 reference of SAELens inference encode, written out directly from the definitions. */
function referenceEncode(
  arch: TrainArch,
  w: Record<string, Float32Array>,
  x: Float32Array,
  n: number,
  dIn: number,
  dSae: number,
  k: number,
) {
  const out = new Float64Array(n * dSae);
  for (let r = 0; r < n; r++) {
    const pre = new Float64Array(dSae);
    for (let j = 0; j < dSae; j++) {
      let s = 0;
      for (let i = 0; i < dIn; i++) s += (x[r * dIn + i] - w.b_dec[i]) * w.W_enc[i * dSae + j];
      pre[j] = s + (arch === "gated" ? 0 : w.b_enc[j]);
    }
    if (arch === "gated") {
      // SAELens GatedSAE.encode: gate (xc·W_enc + b_gate > 0) times ReLU(xc·(W_enc·e^r_mag) + b_mag).
      for (let j = 0; j < dSae; j++) {
        const mag = pre[j] * Math.exp(w.r_mag[j]) + w.b_mag[j];
        out[r * dSae + j] = pre[j] + w.b_gate[j] > 0 ? Math.max(0, mag) : 0;
      }
    } else if (arch === "topk") {
      const idx = Array.from({ length: dSae }, (_, j) => j).sort((a, b) => pre[b] - pre[a] || a - b).slice(0, k);
      for (const j of idx) out[r * dSae + j] = Math.max(0, pre[j]);
    } else if (arch === "standard") {
      for (let j = 0; j < dSae; j++) out[r * dSae + j] = Math.max(0, pre[j]);
    } else {
      for (let j = 0; j < dSae; j++) out[r * dSae + j] = pre[j] > w.threshold[j] ? Math.max(0, pre[j]) : 0;
    }
  }
  return out;
}

for (const arch of ["topk", "batchtopk", "jumprelu", "standard", "gated", "matryoshka_batchtopk"] as TrainArch[]) {
  Deno.test(`saelens export (${arch}): byte layout, cfg fields, sparsity, and re-read weights reproduce the SAE`, async () => {
    const root = await Deno.makeTempDir();
    try {
      const dIn = 24, dSae = 40, k = 5;
      const fx = await makeFixture(root, { arch, dIn, dSae, k, seed: 7, logSteps: 2 });
      const dir = `${root}/saelens`;
      await writeSaelens(dir, { trainCfg: fx.trainCfg, weights: fx.weights, density: fx.density });

      // cfg.json: SAELens field names and values.
      const cfg = JSON.parse(await Deno.readTextFile(`${dir}/cfg.json`));
      const expectArch = arch.endsWith("batchtopk") ? "jumprelu" : arch;
      for (
        const key of [
          "architecture",
          "d_in",
          "d_sae",
          "dtype",
          "device",
          "model_name",
          "hook_name",
          "hook_layer",
          "hook_head_index",
          "context_size",
          "prepend_bos",
          "normalize_activations",
          "dataset_path",
          "apply_b_dec_to_input",
          "metadata",
        ]
      ) assert(key in cfg, `cfg.json lacks ${key}`);
      assertEquals(cfg.architecture, expectArch);
      assertEquals([cfg.d_in, cfg.d_sae, cfg.dtype, cfg.device], [dIn, dSae, "float32", "cpu"]);
      assertEquals([cfg.hook_name, cfg.hook_layer, cfg.hook_head_index], ["blocks.0.hook_resid_post", 0, null]);
      assertEquals([cfg.context_size, cfg.prepend_bos, cfg.apply_b_dec_to_input], [128, false, true]);
      // Scaling is folded into the train weights, so the exported SAE takes raw activations.
      assertEquals(cfg.normalize_activations, "none");
      assertEquals(cfg.metadata.hook_name, "blocks.0.hook_resid_post");
      assertEquals(cfg.metadata.model_name, "use-lite");
      assertEquals(cfg.metadata.training_architecture, arch); // train provenance kept
      if (arch === "topk") {
        assertEquals(cfg.k, k);
        assertEquals(cfg.activation_fn_kwargs, { k });
      } else assert(!("k" in cfg));

      // sae_weights.safetensors: header, dtypes, shapes, contiguous offsets in name order, values.
      const bytes = await Deno.readFile(`${dir}/sae_weights.safetensors`);
      const raw = parseRaw(bytes);
      assertEquals(raw.n % 8, 0, "header length is a multiple of 8");
      assert(!raw.headerText.includes("__metadata__"));
      const names = Object.keys(raw.header);
      const perLatent = arch === "gated" ? ["b_gate", "b_mag", "r_mag"] : ["b_enc"];
      const expected = ["W_dec", "W_enc", "b_dec", ...perLatent, ...(expectArch === "jumprelu" ? ["threshold"] : [])];
      assertEquals(names, expected);
      const shapes: Record<string, number[]> = {
        W_enc: [dIn, dSae],
        W_dec: [dSae, dIn],
        b_dec: [dIn],
        ...Object.fromEntries([...perLatent, "threshold"].map((n) => [n, [dSae]])),
      };
      let offset = 0;
      for (const name of names) {
        const h = raw.header[name];
        assertEquals(h.dtype, "F32");
        assertEquals(h.shape, shapes[name]);
        const size = shapes[name].reduce((a, b) => a * b, 1) * 4;
        assertEquals(h.data_offsets, [offset, offset + size]);
        offset += size;
        assertEquals(raw.f32At(name), fx.weights[name].data, `${name} values`);
      }
      assertEquals(raw.dataBytes, offset, "no trailing bytes");

      // sparsity.safetensors: log10(density + 1e-10).
      const sp = parseRaw(await Deno.readFile(`${dir}/sparsity.safetensors`));
      assertEquals(Object.keys(sp.header), ["sparsity"]);
      assertEquals(sp.header.sparsity.shape, [dSae]);
      const sparsity = sp.f32At("sparsity");
      for (let l = 0; l < dSae; l++) assertAlmostEquals(sparsity[l], Math.log10(fx.density[l] + 1e-10), 1e-5);
      assertAlmostEquals(sparsity[3], -10, 1e-5); // latent 3 is dead in the fixture

      // Encoding with the re-read weights reproduces the trained SAE's latents (float64 reference).
      const sae = await loadSae(dir);
      const n = 16;
      const x = randn(rng(99), n * dIn, 1.5);
      const z = sae.encode(x, n);
      const w = Object.fromEntries(Object.entries(fx.weights).map(([kk, t]) => [kk, t.data as Float32Array]));
      const ref = referenceEncode(arch, w, x, n, dIn, dSae, k);
      let active = 0;
      for (let i = 0; i < z.length; i++) {
        assertAlmostEquals(z[i], ref[i], 1e-5 * (1 + Math.abs(ref[i])));
        if (z[i] !== 0) active++;
      }
      if (arch === "topk") assertEquals(active, n * k);
      else assert(active > 0 && active < n * dSae, `some but not all latents active (${active})`);

      // decode: x̂ = z·W_dec + b_dec.
      const xHat = sae.decode(z, n);
      for (const r of [0, n - 1]) {
        for (const i of [0, dIn - 1]) {
          let s = w.b_dec[i];
          for (let j = 0; j < dSae; j++) s += z[r * dSae + j] * w.W_dec[j * dIn + i];
          assertAlmostEquals(xHat[r * dIn + i], s, 1e-5 * (1 + Math.abs(s)));
        }
      }
    } finally {
      await Deno.remove(root, { recursive: true });
    }
  });
}

Deno.test("saelens export: a cfg saying batchtopk is saved as jumprelu; missing threshold and bad k are clear errors", async () => {
  const root = await Deno.makeTempDir();
  try {
    const fx = await makeFixture(root, { arch: "batchtopk", dIn: 6, dSae: 10, k: 2, seed: 1, logSteps: 1 });
    const trainCfg = { ...fx.trainCfg, architecture: "batchtopk" };
    const files = buildSaelens({ trainCfg, weights: fx.weights, density: null });
    assertEquals(JSON.parse(files["cfg.json"]).architecture, "jumprelu");
    assert(!("sparsity.safetensors" in files), "no sparsity file without densities");
    const { threshold: _, ...noThreshold } = fx.weights;
    assertThrows(() => buildSaelens({ trainCfg, weights: noThreshold, density: null }));
    const err = assertThrows(() =>
      buildSaelens({ trainCfg: { ...trainCfg, architecture: "topk", k: 11 }, weights: fx.weights, density: null })
    );
    assertMatch(err.message, /k in 1\.\.10/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
