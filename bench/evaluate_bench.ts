/**
 * Evaluate-stage throughput.
 *
 *   evaluate.stage   the whole stage (WebGPU encoder, statistics, latents/examples parquet) on `--tokens`
 *                    random held-out activations, d_in 512, d_sae 8192, TopK k 32: tokens/s = tokens / wall
 *                    seconds; also reports the peak RSS (bounded memory: nothing scales with tokens × d_sae).
 *   evaluate.encode  the WebGPU runner alone (GEMM + TopK + reading the sparse codes back), 4096-row batches.
 *   evaluate.stats   the host-side statistics alone (reconstruction metrics, firing counts, histograms, tag
 *                    co-occurrence, top-N and sample heaps, codes spool) on synthetic sparse codes: tokens/s.
 *   evaluate.supervised  the whole stage with and without sparse probing + absorption, in one process, on the
 *                    default run's inputs when `deno task pipeline` has run in data/store (else the synthetic
 *                    inputs above): milliseconds with them, and the ratio to the stage without them (< 2 = the
 *                    metrics do not double the stage); the stage logs each metric's own seconds.
 *
 *   deno run -A bench/evaluate_bench.ts [--json] [--filter NAME] [--tokens 16384] [--d-sae 8192] [--k 32]
 */
import "../stages/cli_help.ts"; // --help prints the comment above
import { parseArgs } from "node:util";
import { join } from "node:path";
import { resolveParams } from "../pipeline/params.ts";
import { ShardWriter } from "../stages/io/activations.ts";
import { f32, writeSafetensors } from "../stages/io/safetensors.ts";
import { type EvaluateParams, evaluateStage } from "../stages/evaluate/mod.ts";
import { CodesSpool } from "../stages/evaluate/codes_spool.ts";
import { gpuRunner } from "../stages/evaluate/gpu_runner.ts";
import { LatentHeaps, sampleHash } from "../stages/evaluate/latent_heaps.ts";
import { ActivationHistograms } from "../stages/evaluate/latent_stats.ts";
import { FiringAccumulator, ReconstructionAccumulator } from "../stages/evaluate/metrics.ts";
import { fixedWidthCodes } from "../stages/evaluate/sparse_codes.ts";
import { LabelCooccurrence } from "../stages/evaluate/tag_association.ts";
import { resolveRun } from "../stages/query/resolve_run.ts";

const { values: args } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    filter: { type: "string", default: "" },
    tokens: { type: "string", default: "16384" },
    "d-sae": { type: "string", default: "8192" },
    "d-in": { type: "string", default: "512" },
    k: { type: "string", default: "32" },
  },
});
const N = Number(args.tokens), dSae = Number(args["d-sae"]), dIn = Number(args["d-in"]), k = Number(args.k);
const results: { name: string; params: Record<string, unknown>; value: number; unit: string }[] = [];
const want = (name: string) => !args.filter || name.startsWith(args.filter) || args.filter.startsWith(name);

/** A cheap deterministic PRNG (bench data only). */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
  };
}

function report(name: string, params: Record<string, unknown>, value: number, unit: string) {
  const r = { name, params, value: Math.round(value), unit };
  results.push(r);
  console.log(JSON.stringify(r));
}

async function writeInputs(root: string) {
  const rnd = rng(1), S = 128, nSeq = Math.ceil(N / S) * 2, nTok = nSeq * S;
  const dirs = Object.fromEntries(["model", "pretokenize", "extract", "train"].map((s) => [s, join(root, s)]));
  for (const d of Object.values(dirs)) await Deno.mkdir(d, { recursive: true });
  const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const tokens = new Uint32Array(nTok).map(() => Math.floor((rnd() + 0.5) * 8000));
  await Deno.writeFile(join(dirs.pretokenize, "tokens.bin"), bytes(tokens));
  await Deno.writeFile(join(dirs.pretokenize, "tag.bin"), bytes(new Uint16Array(nTok).map((_, i) => tokens[i] % 80)));
  await Deno.writeFile(join(dirs.pretokenize, "genre.bin"), bytes(new Uint8Array(nTok).map((_, i) => (i >> 12) % 15)));
  await Deno.writeFile(join(dirs.pretokenize, "doc.bin"), bytes(new Uint32Array(nTok).map((_, i) => i >> 12)));
  await Deno.writeTextFile(
    join(dirs.pretokenize, "docs.json"),
    JSON.stringify(Array.from({ length: (nTok >> 12) + 1 }, (_, i) => ({ id: `d${i}`, genre: "g" }))),
  );
  await Deno.writeTextFile(
    join(dirs.pretokenize, "vocab.json"),
    JSON.stringify(Array.from({ length: 8000 }, (_, i) => `▁${String.fromCharCode(97 + (i % 26))}w${i}`)),
  );
  await Deno.writeTextFile(
    join(dirs.pretokenize, "meta.json"),
    JSON.stringify({
      n_seq: nSeq,
      context_size: S,
      n_tokens: nTok,
      vocab_size: 8000,
      pad_token_id: 0,
      tags: Array.from({ length: 80 }, (_, i) => `t${i}`),
      genres: Array.from({ length: 15 }, (_, i) => `g${i}`),
    }),
  );
  // Held-out = the second half of the sequences, streamed in 4096-row appends.
  const w = new ShardWriter(dirs.extract, "heldout", dIn);
  for (let s = 0; s < N; s += 4096) {
    const b = Math.min(4096, N - s);
    const a = new Float32Array(b * dIn).map(() => rnd() * 2);
    await w.append(a, new Uint32Array(b).map((_, i) => nTok / 2 + s + i));
  }
  const held = await w.finish();
  await Deno.writeTextFile(
    join(dirs.extract, "meta.json"),
    JSON.stringify({
      model_name: "bench",
      hook_name: "blocks.0.hook_resid_post",
      hook_layer: 0,
      d_in: dIn,
      dtype: "float32",
      context_size: S,
      prepend_bos: false,
      dataset_path: "bench",
      mean_norm: held.mean_norm,
      splits: { heldout: { n_tokens: held.n_tokens, shards: held.shards } },
    }),
  );
  const scale = 1 / Math.sqrt(dIn);
  await writeSafetensors(join(dirs.train, "sae_weights.safetensors"), {
    W_enc: f32([dIn, dSae], new Float32Array(dIn * dSae).map(() => rnd() * scale)),
    W_dec: f32([dSae, dIn], new Float32Array(dSae * dIn).map(() => rnd() * scale)),
    b_enc: f32([dSae], new Float32Array(dSae)),
    b_dec: f32([dIn], new Float32Array(dIn)),
  });
  await Deno.writeTextFile(
    join(dirs.train, "cfg.json"),
    JSON.stringify({ architecture: "topk", d_in: dIn, d_sae: dSae, k, apply_b_dec_to_input: true }),
  );
  return dirs;
}

/** Run the evaluate stage once on `inputs` with `overrides`: wall seconds, peak RSS (sampled) and eval.json. */
async function runStage(inputs: Record<string, string>, overrides: Record<string, unknown>) {
  const root = await Deno.makeTempDir({ prefix: "evaluate_bench_run_" });
  try {
    const outDir = join(root, "out"), scratchDir = join(root, "scratch");
    await Deno.mkdir(outDir);
    await Deno.mkdir(scratchDir);
    const params = resolveParams("evaluate", evaluateStage.params, overrides) as unknown as EvaluateParams;
    let peak = 0;
    const timer = setInterval(() => (peak = Math.max(peak, Deno.memoryUsage().rss)), 100);
    const t0 = performance.now();
    await evaluateStage.run({
      params,
      outDir,
      inputs,
      scratchDir,
      config: {},
      signal: new AbortController().signal,
      progress() {},
      log: (m) => console.error(m),
    });
    const seconds = (performance.now() - t0) / 1000;
    clearInterval(timer);
    return { seconds, peak, ev: JSON.parse(await Deno.readTextFile(join(outDir, "eval.json"))) };
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

if (want("evaluate.stage")) {
  const root = await Deno.makeTempDir({ prefix: "evaluate_bench_" });
  try {
    const { seconds: s, peak, ev } = await runStage(await writeInputs(root), { downstream_sequences: 0 });
    console.error(
      `evaluate.stage: ${N} tokens in ${s.toFixed(1)} s on ${ev.encoder}, peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB`,
    );
    report(
      "evaluate.stage",
      { d_in: dIn, d_sae: dSae, k, tokens: N, encoder: ev.encoder, peak_rss_mib: Math.round(peak / 2 ** 20) },
      N / s,
      "tokens/s",
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

if (want("evaluate.encode")) {
  const rnd = rng(3), B = 4096, reps = 4;
  const weights = {
    W_enc: new Float32Array(dIn * dSae).map(() => rnd()),
    W_dec: new Float32Array(dSae * dIn),
    b_enc: new Float32Array(dSae),
    b_dec: new Float32Array(dIn),
  };
  const runner = await gpuRunner(weights, { architecture: "topk", d_in: dIn, d_sae: dSae, k }, B);
  const x = new Float32Array(B * dIn).map(() => rnd());
  await runner.encode(x, B); // warm-up (pipeline compilation)
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    await runner.encode(x, B);
    times.push((performance.now() - t0) / 1000);
  }
  runner.dispose();
  const med = times.sort((a, b) => a - b)[Math.floor(reps / 2)];
  report("evaluate.encode", { d_in: dIn, d_sae: dSae, k, batch: B }, B / med, "tokens/s");
}

if (want("evaluate.stats")) {
  const n = 262144, B = 4096, rnd = rng(2);
  const x = new Float32Array(B * dIn).map(() => rnd()), xhat = x.map((v) => v * 0.9);
  const idx = new Uint32Array(B * k).map(() => Math.floor((rnd() + 0.5) * dSae)),
    val = new Float32Array(B * k).map(() => rnd() + 0.6);
  const codes = fixedWidthCodes(B, k, idx, val);
  const labels = Array.from({ length: B }, (_, i) => i % 80), genres = Array.from({ length: B }, (_, i) => i % 15);
  const recon = new ReconstructionAccumulator(dIn),
    firing = new FiringAccumulator(dSae),
    hists = new ActivationHistograms(dSae);
  const tags = new LabelCooccurrence(dSae, 80, 0xffff), gen = new LabelCooccurrence(dSae, 15, 255);
  const top = new LatentHeaps(dSae, 10), sample = new LatentHeaps(dSae, 64);
  const dir = await Deno.makeTempDir();
  const spool = await CodesSpool.create(dir);
  const t0 = performance.now();
  for (let s = 0; s < n; s += B) {
    recon.add(x, xhat, codes);
    firing.add(codes);
    hists.add(codes);
    tags.add(codes, labels);
    gen.add(codes, genres);
    for (let t = 0; t < B; t++) {
      for (let e = t * k; e < (t + 1) * k; e++) {
        top.push(idx[e], val[e], s + t, val[e]);
        sample.push(idx[e], -sampleHash(s + t, idx[e]), s + t, val[e]);
      }
    }
    await spool.append(codes);
  }
  const sec = (performance.now() - t0) / 1000;
  await spool.dispose();
  await Deno.remove(dir, { recursive: true });
  report("evaluate.stats", { d_in: dIn, d_sae: dSae, k, tokens: n }, n / sec, "tokens/s");
}

if (want("evaluate.supervised")) {
  let inputs: Record<string, string>, source = "default run", tmp: string | null = null;
  try {
    const run = await resolveRun("data/store");
    const s = run.stages;
    if (!s.model || !s.pretokenize || !s.extract || !s.train) throw new Error("incomplete run");
    inputs = { model: s.model, pretokenize: s.pretokenize, extract: s.extract, train: s.train };
  } catch (e) {
    if (!(e instanceof Error)) throw e; // no usable default run in data/store (resolveRun says why): synthetic inputs
    console.error(`evaluate bench: ${e.message}; using synthetic activations`);
    tmp = await Deno.makeTempDir({ prefix: "evaluate_bench_" });
    inputs = await writeInputs(tmp);
    source = `synthetic ${N} tokens`;
  }
  try {
    const off = { probe_examples: 0, probe_max_sequences: 0, absorption_examples: 0 };
    const without = await runStage(inputs, { downstream_sequences: 0, ...off });
    const withThem = await runStage(inputs, { downstream_sequences: 0 });
    const sp = withThem.ev.sparse_probing, ab = withThem.ev.absorption;
    report(
      "evaluate.supervised",
      {
        inputs: source,
        tokens: withThem.ev.n_tokens,
        seconds_without: +without.seconds.toFixed(1),
        ratio_to_without: +(withThem.seconds / without.seconds).toFixed(3),
        metrics_seconds: +(withThem.seconds - without.seconds).toFixed(1),
        absorption_letters: ab ? ab.letters : null,
        pos_tasks: sp.pos_tasks,
        genre_tasks: sp.genre_tasks,
      },
      withThem.seconds * 1000,
      "ms",
    );
  } finally {
    if (tmp) await Deno.remove(tmp, { recursive: true });
  }
}

if (args.json) console.log(JSON.stringify(results));
