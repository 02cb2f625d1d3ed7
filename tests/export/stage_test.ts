import { assert, assertEquals } from "../assert.ts";
import { type ExportParams, exportStage } from "../../stages/export/mod.ts";
import { resolveParams } from "../../pipeline/params.ts";
import { f32, writeSafetensors } from "../../stages/io/safetensors.ts";
import { makeCtx, makeFixture, readTree } from "./fixtures.ts";

const params = () => resolveParams("export", exportStage.params, {}) as unknown as ExportParams;

Deno.test("export stage: writes the SAELens folder, plots and dashboard; identical bytes on rerun; a changed SAE changes the export", async () => {
  const root = await Deno.makeTempDir();
  try {
    const fx = await makeFixture(root, { arch: "topk", dIn: 16, dSae: 48, k: 4, seed: 3 });
    const run = async (name: string) => {
      const out = `${root}/${name}`;
      await Deno.mkdir(out);
      await exportStage.run(makeCtx(params(), fx.inputs, out));
      return await readTree(out);
    };
    const a = await run("a"), b = await run("b");
    const names = [...a.keys()];
    for (
      const f of [
        "saelens/cfg.json",
        "saelens/sae_weights.safetensors",
        "saelens/sparsity.safetensors",
        "sparsify/blocks.0.hook_resid_post/cfg.json",
        "sparsify/blocks.0.hook_resid_post/sae.safetensors",
        "plots/loss.svg",
        "plots/l0.svg",
        "plots/dead_latents.svg",
        "plots/density_histogram.svg",
        "dashboard/index.html",
        "dashboard/data.js",
        "dashboard/examples/0000.js",
      ]
    ) assert(a.has(f), `missing ${f}; have ${names.join(", ")}`);
    assertEquals([...b.keys()], names);
    for (const f of names) assertEquals(b.get(f), a.get(f), `${f} differs between two identical runs`);

    // The dashboard summary carries eval.json's numbers; the plots have titles and axis labels.
    const html = new TextDecoder().decode(a.get("dashboard/index.html"));
    assert(html.includes(`data-metric="explained_variance" data-path="explained_variance" data-value="0.8125"`));
    assert(html.includes(`data-downstream="downstream.fraction_recovered_zero" data-value="0.912"`));
    assert(!/https?:\/\/(?!www\.w3\.org)/.test(html), "no network references");
    const loss = new TextDecoder().decode(a.get("plots/loss.svg"));
    for (const s of ["<title>Training loss</title>", "training tokens", "loss (log scale)", "<polyline"]) {
      assert(loss.includes(s), s);
    }

    // Change one weight: the exported weights change, the rest of the SAE folder layout stays.
    const w = { ...fx.weights };
    const enc = Float32Array.from(w.W_enc.data as Float32Array);
    enc[5] += 0.25;
    w.W_enc = f32(w.W_enc.shape, enc);
    await writeSafetensors(`${fx.inputs.train}/sae_weights.safetensors`, w);
    const c = await run("c");
    assertEquals([...c.keys()], names);
    const changed = names.filter((f) =>
      c.get(f)!.length !== a.get(f)!.length || c.get(f)!.some((x, i) => x !== a.get(f)![i])
    );
    assertEquals(changed, ["saelens/sae_weights.safetensors", "sparsify/blocks.0.hook_resid_post/sae.safetensors"]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("export stage: dashboard_latents caps the dashboard, examples are capped per latent and kind", async () => {
  const root = await Deno.makeTempDir();
  try {
    const fx = await makeFixture(root, {
      arch: "jumprelu",
      dIn: 8,
      dSae: 30,
      seed: 5,
      topExamples: 6,
      quantileExamples: 3,
    });
    const out = `${root}/out`;
    await Deno.mkdir(out);
    const p = { ...params(), dashboard_latents: 20, examples_per_latent: 4, quantile_examples: 1, chunk_latents: 8 };
    await exportStage.run(makeCtx(p, fx.inputs, out));
    const tree = await readTree(out);
    assertEquals([...tree.keys()].filter((f) => f.startsWith("dashboard/examples/")), [
      "dashboard/examples/0000.js",
      "dashboard/examples/0001.js",
      "dashboard/examples/0002.js",
    ]);
    const chunks: Record<number, { k: string[]; l: [number, number, unknown, unknown, unknown, [number][]][] }> = {};
    const SAE_CHUNK = (i: number, d: (typeof chunks)[number]) => (chunks[i] = d);
    for (const f of ["0000", "0001", "0002"]) {
      new Function("SAE_CHUNK", new TextDecoder().decode(tree.get(`dashboard/examples/${f}.js`)))(SAE_CHUNK);
    }
    const rows = Object.values(chunks).flatMap((c) => c.l.map((r) => ({ c, r })));
    assertEquals(rows.map(({ r }) => r[0]), Array.from({ length: 20 }, (_, i) => i));
    for (const { c, r } of rows) {
      const kinds = r[5].map((e) => c.k[e[0]]);
      const live = fx.density[r[0]] > 0;
      assertEquals(kinds, live ? ["top", "top", "top", "top", "quantile"] : [], `latent ${r[0]}`);
    }
    const data = new TextDecoder().decode(tree.get("dashboard/data.js"));
    const sae = new Function(`const globalThis = {}; ${data}; return globalThis.SAE;`)();
    assertEquals([sae.n, sae.d_sae, sae.chunk], [20, 30, 8]);
    assertEquals(sae.list, [
      "latent",
      "frequency",
      "max_activation",
      "mean_activation",
      "top_tag",
      "top_genre",
      "top_tokens",
    ]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
