/**
 * The export stage: turns the trained and evaluated SAE into what a researcher opens:
 * - `saelens/` (cfg.json, sae_weights.safetensors, sparsity.safetensors), loadable by SAELens and by
 *   `loadSae()` in ./load.ts;
 * - `sparsify/<hook>/` (cfg.json, sae.safetensors) for TopK SAEs, loadable by EleutherAI sparsify;
 * - `plots/*.svg`: loss, L0, dead latents (and explained variance) over training tokens, latent density;
 * - `dashboard/index.html` (+ data.js, examples/*.js): a static dashboard that works from file://;
 * - `neuronpedia/batch-N.json` + `skipped_indexes.json`: Neuronpedia upload batches (neuronpedia.ts).
 * For a causal LM whose graph stores its unembedding, the latent cards and Neuronpedia features carry each
 * latent's top boosted / suppressed tokens (latent_logits.ts; the model input is read only for that).
 * Every byte is a function of the inputs and params (no timestamps), so reruns give identical outputs.
 */
import { defineStage } from "../../pipeline/stage.ts";
import type { ParamSchema, ParamsOf } from "../../pipeline/params.ts";
import { writeDashboard } from "./dashboard.ts";
import { type Columns, readColumns, readExamples, readExportInputs } from "./inputs.ts";
import type { LatentColumn } from "./eval_columns.ts";
import { latentCards, supervisedHtml } from "./latent_cards.ts";
import { latentTopTokens, topTokenCardLines } from "./latent_logits.ts";
import { neuronpediaBatches } from "./neuronpedia.ts";
import { densityHistogram, densityPlot, histogramFromEval, trainingPlots } from "./plots.ts";
import { writeSaelens } from "./saelens.ts";
import { sparsifyUnsupported, TOPK_TRANSCODERS, writeSparsify } from "./sparsify.ts";

export type ExportParams = ParamsOf<typeof params>;

const params = {
  dashboard_latents: {
    type: "int",
    default: null,
    nullable: true,
    min: 1,
    doc: "show only latents 0..N-1 in the dashboard (null: all of them)",
  },
  examples_per_latent: { type: "int", default: 10, min: 0, doc: "top activating contexts shown per latent" },
  quantile_examples: { type: "int", default: 4, min: 0, doc: "examples shown per lower-quantile group per latent" },
  chunk_latents: { type: "int", default: 256, min: 1, doc: "latents per dashboard examples file (loaded on demand)" },
  neuronpedia_batch: {
    type: "int",
    default: 256,
    min: 0,
    doc: "features per Neuronpedia batch file (0 = none written)",
  },
  logit_tokens: {
    type: "int",
    default: 10,
    min: 0,
    doc: "top boosted/suppressed tokens per latent (causal LM; 0: none)",
  },
} as const satisfies ParamSchema;

/** Firing density per latent in [0, 1]: latents.parquet's `frequency` column; null without latents.parquet. */
export function latentDensity(latents: Columns | null, dSae: number): Float64Array | null {
  const FREQUENCY: LatentColumn = "frequency", LATENT: LatentColumn = "latent";
  if (!latents?.[LATENT] || !latents[FREQUENCY]) return null;
  const out = new Float64Array(dSae);
  latents[LATENT].forEach((id, r) => {
    const l = Number(id), v = latents[FREQUENCY][r];
    if (l >= 0 && l < dSae && typeof v === "number") out[l] = v;
  });
  return out;
}

export const exportStage = defineStage<ExportParams>({
  name: "export",
  upstream: ["model", "pretokenize", "train", "evaluate"],
  params,
  description: "SAELens and sparsify folders, static HTML dashboard and SVG plots",
  module: import.meta.url,
  packages: ["@duckdb/node-api"],
  unit: "files",
  async run(ctx) {
    const p = ctx.params;
    const inp = await readExportInputs(ctx.inputs);
    const t = inp.trainCfg;
    const dSae = Number(t.d_sae);
    const density = latentDensity(inp.latents, dSae);
    ctx.progress(0, 3, "saelens");
    // SAELens has no TopK transcoder: such a coder gets the sparsify layout only (from the train cfg's own keys).
    const noSaelens = TOPK_TRANSCODERS.includes(String(t.architecture))
      ? "SAELens has no TopK transcoder (its transcoders: transcoder, skip_transcoder, jumprelu_transcoder)"
      : null;
    if (noSaelens) ctx.log(`saelens/ not written: ${noSaelens}`);
    const saelens = noSaelens ? null : await writeSaelens(`${ctx.outDir}/saelens`, {
      trainCfg: t,
      weights: inp.weights,
      pretokenizeMeta: inp.pretokenizeMeta ?? undefined,
      density,
    });
    const saelensCfg = saelens ? JSON.parse(saelens["cfg.json"]) : t;
    const noSparsify = sparsifyUnsupported(saelensCfg);
    if (noSparsify) ctx.log(`sparsify/ not written: ${noSparsify}`);
    else await writeSparsify(`${ctx.outDir}/sparsify`, saelensCfg, inp.weights);
    if (!density) ctx.log("export: no per-latent frequency in latents.parquet; sparsity.safetensors not written");

    ctx.progress(1, 3, "plots");
    const plots = trainingPlots(inp.trainLog);
    const hist = density ? densityHistogram(density) : histogramFromEval(inp.evalJson?.density_histogram);
    if (hist) plots.density_histogram = densityPlot(hist);
    await Deno.mkdir(`${ctx.outDir}/plots`, { recursive: true });
    for (const [name, svg] of Object.entries(plots)) await Deno.writeTextFile(`${ctx.outDir}/plots/${name}.svg`, svg);

    ctx.progress(2, 3, "dashboard");
    const cap = Math.min(dSae, p.dashboard_latents ?? dSae);
    const examples = ctx.inputs.evaluate
      ? await readExamples(`${ctx.inputs.evaluate}/examples.parquet`, cap, p.examples_per_latent, p.quantile_examples)
      : [];
    // The train stage saves BatchTopK as JumpReLU and keeps the training architecture in metadata.
    const trainMeta = (t.metadata ?? {}) as Record<string, unknown>;
    const transcoder = typeof t.hook_name_out === "string"; // reads hook_name, reconstructs hook_name_out
    const arch = String(transcoder ? t.architecture : trainMeta.training_architecture ?? t.architecture);
    const dOut = Number(t.d_out ?? t.d_in); // the width of W_dec's rows
    const s = inp.trainSummary ?? {};
    const info: [string, string | number][] = [
      ["architecture", arch.endsWith("batchtopk") ? `${arch} (saved as jumprelu)` : arch],
      ["d_in", Number(t.d_in)],
      ["d_sae", dSae],
      ...(transcoder ? [["d_out", dOut] as [string, number]] : []),
    ];
    const k = t.k ?? trainMeta.k ?? inp.evalJson?.k;
    if ((arch.startsWith("topk") || arch.endsWith("batchtopk")) && k !== undefined && k !== null) {
      info.push(["k", Number(k)]);
    }
    if (t.model_name) info.push(["model", String(t.model_name)]);
    if (t.hook_name) info.push([transcoder ? "input hook" : "hook", String(t.hook_name)]);
    if (transcoder) info.push(["output hook (reconstructed)", String(t.hook_name_out)]);
    for (const key of ["tokens", "training_tokens", "steps"]) {
      if (typeof s[key] === "number") {
        info.push([key === "tokens" ? "training tokens" : key.replace("_", " "), s[key] as number]);
      }
    }
    const order = ["loss", "explained_variance", "l0", "dead_latents", "density_histogram"];
    const ev = ctx.inputs.evaluate;
    const probes = ev ? await readColumns(`${ev}/probes.parquet`) : null;
    const absorption = ev ? await readColumns(`${ev}/absorption.parquet`) : null;
    const npOn = p.neuronpedia_batch > 0 && !!ev;
    const topTokens = await latentTopTokens({
      modelDir: ctx.inputs.model,
      pretokenizeDir: ctx.inputs.pretokenize,
      wDec: inp.weights.W_dec.data as Float32Array,
      dIn: dOut,
      latents: Array.from({ length: npOn ? dSae : cap }, (_, l) => l),
      n: p.logit_tokens,
      log: (line) => ctx.log(line),
    });
    const noTopTokens = typeof topTokens === "string" ? `no top boosted / suppressed tokens: ${topTokens}` : null;
    if (noTopTokens) ctx.log(noTopTokens);
    const cards = latentCards(probes, absorption);
    if (typeof topTokens !== "string") {
      for (const [l, tt] of topTokens) if (l < cap) (cards[l] ??= []).push(...topTokenCardLines(tt));
    }
    await writeDashboard(`${ctx.outDir}/dashboard`, {
      title: `SAE ${[t.model_name, t.hook_name].filter(Boolean).join(" · ")} — ${arch}, d_sae ${dSae}`,
      info,
      evalJson: inp.evalJson,
      plots: order.filter((n) => plots[n]).map((n) => [n, plots[n]]),
      latents: inp.latents,
      dSae,
      examples,
      latentCap: cap,
      chunkSize: p.chunk_latents,
      cards,
      topTokensNote: noTopTokens,
      supervisedHtml: supervisedHtml(inp.evalJson, probes, absorption),
    });
    if (npOn) {
      const all = cap === dSae
        ? examples
        : await readExamples(`${ctx.inputs.evaluate}/examples.parquet`, dSae, p.examples_per_latent, 0);
      const files = neuronpediaBatches({
        modelId: String(t.model_name ?? "model"),
        layer: Number(t.hook_layer ?? 0),
        hookName: String(t.hook_name ?? ""),
        dSae,
        dIn: dOut,
        wDec: inp.weights.W_dec.data as Float32Array,
        latents: inp.latents,
        examples: all,
        topTokens: typeof topTokens === "string" ? null : topTokens,
        batchSize: p.neuronpedia_batch,
      });
      await Deno.mkdir(`${ctx.outDir}/neuronpedia`, { recursive: true });
      for (const [name, text] of files) await Deno.writeTextFile(`${ctx.outDir}/neuronpedia/${name}`, text);
    }
    ctx.progress(3, 3, "done");
  },
});
