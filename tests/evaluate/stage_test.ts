import { join } from "node:path";
import { assert, assertAlmostEquals, assertEquals } from "../assert.ts";
import { readParquet } from "../../stages/io/parquet.ts";
import { evaluateStage } from "../../stages/evaluate/mod.ts";
import { decode, encode } from "../../stages/train/sae_cpu.ts";
import { loadSae } from "../../stages/export/load.ts";
import { evalContext, type EvalFixture, GENRES, makeEvalFixture, TAGS } from "./stage_fixture.ts";

/** Dense float64 reference: latents z [n, d_sae] and x̂ of every held-out row. */
async function reference(fx: EvalFixture) {
  const { weights, cfg } = await loadSae(fx.inputs.train);
  const n = fx.heldoutRows.length;
  const z = encode(weights, cfg, fx.heldoutActs, n);
  return { n, z, xhat: decode(weights, cfg, z, n), weights };
}

for (const architecture of ["topk", "jumprelu"] as const) {
  Deno.test(`evaluate stage (${architecture}): eval.json, latents and examples match a float64 reference`, async () => {
    const fx = await makeEvalFixture({ architecture, seed: architecture === "topk" ? 1 : 2 });
    try {
      const params = {
        batch_tokens: 7,
        top_n: 3,
        quantile_examples: 2,
        window: 2,
        downstream_sequences: 3,
        backend: "cpu",
      };
      const ctx = await evalContext(fx, params);
      await evaluateStage.run(ctx);
      const ev = JSON.parse(await Deno.readTextFile(join(ctx.outDir, "eval.json")));
      const { n, z, xhat, weights } = await reference(fx);
      const { dIn: d, dSae } = fx;
      const x = fx.heldoutActs;

      // Reconstruction metrics, straight from the definitions (two passes, float64).
      const mean = new Float64Array(d);
      for (let i = 0; i < n * d; i++) mean[i % d] += x[i] / n;
      let sse = 0, tv = 0, cos = 0, ratio = 0, hh = 0, xh = 0, l0 = 0, l1 = 0;
      for (let t = 0; t < n; t++) {
        let e = 0, xx = 0, h2 = 0, dot = 0;
        for (let j = t * d; j < (t + 1) * d; j++) {
          e += (x[j] - xhat[j]) ** 2;
          tv += (x[j] - mean[j % d]) ** 2;
          xx += x[j] ** 2;
          h2 += xhat[j] ** 2;
          dot += x[j] * xhat[j];
        }
        sse += e;
        cos += dot / Math.sqrt(xx * h2);
        ratio += Math.sqrt(h2 / xx);
        hh += h2;
        xh += dot;
        for (let l = 0; l < dSae; l++) if (z[t * dSae + l] !== 0) (l0++, l1 += Math.abs(z[t * dSae + l]));
      }
      assertEquals(ev.n_tokens, n);
      assertEquals(ev.architecture, architecture);
      assertEquals(ev.d_sae, dSae);
      assertEquals(ev.k, architecture === "topk" ? fx.k : null);
      const close = (a: number, b: number, what: string) =>
        assertAlmostEquals(a, b, 1e-5 * Math.max(1, Math.abs(b)), what);
      close(ev.mse, sse / n, "mse");
      close(ev.explained_variance, 1 - sse / tv, "explained variance");
      close(ev.fvu, sse / tv, "fvu");
      close(ev.cosine_similarity, cos / n, "cosine");
      close(ev.l2_ratio, ratio / n, "l2 ratio");
      close(ev.relative_reconstruction_bias, hh / xh, "relative reconstruction bias");
      close(ev.l0, l0 / n, "l0");
      close(ev.l1, l1 / n, "l1");
      if (architecture === "topk") assert(ev.l0 <= fx.k);

      // Per-latent statistics.
      const fires = new Array(dSae).fill(0), max = new Array(dSae).fill(0), sum = new Array(dSae).fill(0);
      for (let t = 0; t < n; t++) {
        for (let l = 0; l < dSae; l++) {
          const v = z[t * dSae + l];
          if (v !== 0) (fires[l]++, sum[l] += v, max[l] = Math.max(max[l], v));
        }
      }
      assertEquals(ev.dead_latents, fires.filter((c) => c === 0).length);
      assertEquals(ev.dense_latents, fires.filter((c) => c / n > 0.1).length);
      assertEquals(ev.density_histogram.counts.reduce((a: number, b: number) => a + b), dSae);
      const latents = await readParquet(join(ctx.outDir, "latents.parquet"));
      assertEquals(latents.length, dSae);
      for (const row of latents) {
        const l = row.latent as number;
        assertEquals(row.fires, fires[l]);
        assertEquals(row.dead, fires[l] === 0);
        if (fires[l]) {
          close(row.max_activation as number, max[l], "max activation");
          close(row.mean_activation as number, sum[l] / fires[l], "mean activation");
          assertEquals((row.act_hist as number[]).reduce((a, b) => a + b), fires[l]);
        }
        let dn = 0;
        for (let j = 0; j < d; j++) dn += weights.W_dec[l * d + j] ** 2;
        close(row.decoder_norm as number, Math.sqrt(dn), "decoder norm");
        // Best POS tag by F1, brute force.
        let best: string | null = null, bestF1 = 0;
        TAGS.forEach((_, T) => {
          let both = 0, total = 0;
          for (let t = 0; t < n; t++) {
            const isT = fx.tag[fx.heldoutRows[t]] === T;
            total += isT ? 1 : 0;
            if (isT && z[t * dSae + l] !== 0) both++;
          }
          if (both === 0) return;
          const p = both / fires[l], r = both / total, f = (2 * p * r) / (p + r);
          if (f > bestF1) (bestF1 = f, best = TAGS[T]);
        });
        assertEquals(row.top_tag, best);
        if (best) close(row.top_tag_f1 as number, bestF1, "tag F1");
        assert(row.top_genre === null || GENRES.includes(row.top_genre as string));
      }

      // Examples: top activations per latent with the activation of every window token.
      const examples = await readParquet(join(ctx.outDir, "examples.parquet"));
      const ordinal = new Map(Array.from(fx.heldoutRows, (r, i) => [r, i]));
      for (let l = 0; l < dSae; l++) {
        const want = Array.from({ length: n }, (_, t) => ({ v: z[t * dSae + l], tok: fx.heldoutRows[t] }))
          .filter((e) => e.v !== 0).sort((a, b) => b.v - a.v || a.tok - b.tok).slice(0, 3);
        const got = examples.filter((e) => e.latent === l && e.kind === "top").sort((a, b) =>
          (a.rank as number) - (b.rank as number)
        );
        assertEquals(got.map((e) => e.token_index), want.map((e) => e.tok));
        const quant = examples.filter((e) => e.latent === l && e.kind === "quantile");
        assert(quant.length <= 2 && (fires[l] <= 3 || quant.length === Math.min(2, fires[l] - 3)));
        for (const e of [...got, ...quant]) {
          const tok = e.token_index as number, seq = Math.floor(tok / fx.S), pos = tok % fx.S;
          assertEquals([e.seq, e.pos], [seq, pos]);
          const toks = e.tokens as string[], acts = e.acts as number[];
          const a = pos - (e.center as number);
          assertEquals(toks.length, acts.length);
          assert(toks.length <= 5 && a >= Math.max(0, pos - 2));
          toks.forEach((s, i) => {
            const flat = seq * fx.S + a + i;
            assertEquals(s, fx.vocab[fx.tokens[flat]].replaceAll("▁", " "));
            close(acts[i], z[ordinal.get(flat)! * dSae + l], "window activation");
          });
          assertEquals(e.text, toks.join(""));
          close(e.activation as number, z[ordinal.get(tok)! * dSae + l], "example activation");
          assertEquals(e.tag, fx.tag[tok] === 0xffff ? null : TAGS[fx.tag[tok]]);
        }
      }

      // A rerun writes identical bytes (the engine's early cutoff relies on it).
      if (architecture === "topk") {
        const again = await evalContext(fx, { ...params, batch_tokens: 5 }, "out2");
        await evaluateStage.run(again);
        for (const f of ["eval.json", "latents.parquet", "examples.parquet"]) {
          assertEquals(await Deno.readFile(join(again.outDir, f)), await Deno.readFile(join(ctx.outDir, f)), f);
        }
      }

      // Downstream fidelity ran on the tiny model.
      assertEquals(ev.downstream.kind, "encoder");
      assertEquals(ev.downstream.n_sequences, 3);
      assert(Number.isFinite(ev.downstream.fraction_recovered_zero));
      assert(ev.downstream.spliced.sentence_embedding_cosine > -1.0001);
    } finally {
      await Deno.remove(fx.root, { recursive: true });
    }
  });
}
