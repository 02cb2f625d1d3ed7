/**
 * End to end through the real CLI (`stages/cli.ts`, as `deno task pipeline` runs it) on a tiny config: the
 * tiny ONNX model fixture, a slice of the Brown Corpus, a small TopK SAE. Checks the outputs, that a rerun
 * is a no-op, that `--set train.k=…` reruns train, evaluate and export only (and `status` said so first),
 * that kernels are part of exactly the stages that load them, and that Ctrl-C during training resumes to
 * the same weights as an uninterrupted run.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { join } from "node:path";
import { cli, lastRun, pipeline, root, tinySetup } from "../fixtures/tiny_pipeline.ts";
import { readRunRecords } from "../../pipeline/records.ts";
import { fingerprint } from "../../pipeline/fingerprint.ts";
import { extractStage, trainStage } from "../../stages/graph.ts";

Deno.test("e2e: tiny pipeline runs, reruns as a no-op, and --set train.k reruns train/evaluate/export only", async () => {
  const s = await tinySetup();
  const first = await pipeline(["run"], s);
  assertEquals(first.code, 0, first.text);
  assertMatch(first.text, /dashboard: /);
  let run = await lastRun(s.store);
  assertEquals(Object.values(run).map((r) => r.status), ["ran", "ran", "ran", "ran", "ran", "ran"]);
  const exp = join(s.store, "objects", run.export.key);
  for (
    const f of [
      "saelens/cfg.json",
      "saelens/sae_weights.safetensors",
      "saelens/sparsity.safetensors",
      "dashboard/index.html",
    ]
  ) {
    assert((await Deno.stat(join(exp, f))).size > 0, f);
  }
  // the encoder has no unembedding: no top tokens anywhere, said once in the log and on the cards
  assertMatch(first.text, /no top boosted \/ suppressed tokens: the model has no `logits` output/);
  const batch = JSON.parse(await Deno.readTextFile(join(exp, "neuronpedia", "batch-0.json")));
  assert(batch.features.length > 0);
  for (const f of batch.features) assertEquals([f.pos_str, f.neg_str, f.pos_values, f.neg_values], [[], [], [], []]);
  const data = await Deno.readTextFile(join(exp, "dashboard", "data.js"));
  assert(data.includes('"topTokensNote":"no top boosted / suppressed tokens: the model has no `logits` output'));
  assert(!data.includes('"logits","boosted'), "no card has boosted-token lines");
  const ev = JSON.parse(await Deno.readTextFile(join(s.store, "objects", run.evaluate.key, "eval.json")));
  assert(ev.explained_variance > 0 && ev.explained_variance <= 1, `explained variance ${ev.explained_variance}`);

  const t0 = performance.now();
  const noop = await pipeline(["run"], s);
  const noopSeconds = (performance.now() - t0) / 1000;
  assertEquals(noop.code, 0, noop.text);
  run = await lastRun(s.store);
  assertEquals(Object.values(run).map((r) => r.status), ["fresh", "fresh", "fresh", "fresh", "fresh", "fresh"]);
  // the product number is `deno task bench`'s pipeline.noop_*; this bound only catches a no-op that does real work
  // (it took 7 s with the 2 cores at load 12, about 1 s when quiet)
  assert(noopSeconds < 15, `no-op rerun took ${noopSeconds.toFixed(2)} s`);

  // inspect on the cached run: per-token latents with evaluate's frequencies; the encoder has no unembedding.
  const insp = await pipeline(
    ["inspect", "the cat sat on the mat", "--format", "json", "--top", "2", "--top-logits"],
    s,
  );
  assertEquals(insp.code, 0, insp.text);
  const r = JSON.parse(insp.text.slice(insp.text.indexOf("{"), insp.text.lastIndexOf("}") + 1));
  assert(r.tokens.length >= 6 && r.tokens.every((t: { latents: unknown[] }) => t.latents.length <= 2), insp.text);
  assert(r.tokens.some((t: { latents: { frequency: number }[] }) => t.latents.some((l) => l.frequency > 0)));
  assertMatch(r.notes.join("\n"), /--top-logits skipped/);

  const status = await pipeline(["status", "--set", "train.k=8"], s);
  assertEquals(status.code, 0, status.text);
  const lines = status.text.split("\n");
  const state = (name: string) =>
    lines.find((l) => l.trim().endsWith(` ${name}`) || l.includes(` ${name} `))?.split(/\s+/)[0];
  assertEquals(
    ["model", "pretokenize", "extract", "train", "evaluate", "export"].map(state),
    ["fresh", "fresh", "fresh", "STALE", "STALE", "STALE"],
  );
  assertMatch(status.text, /param train\.k: 4 → 8/);

  const second = await pipeline(["run", "--set", "train.k=8"], s);
  assertEquals(second.code, 0, second.text);
  run = await lastRun(s.store);
  assertEquals(
    Object.entries(run).map(([n, r]) => `${n}:${r.status}`),
    ["model:fresh", "pretokenize:fresh", "extract:fresh", "train:ran", "evaluate:ran", "export:ran"],
  );
  assertEquals(run.train.reason, "param train.k: 4 → 8");
});

Deno.test("e2e: WGSL kernels are part of the train stage's key and not of extract's", () => {
  const train = Object.keys(fingerprint(trainStage.module, root).files);
  const extract = Object.keys(fingerprint(extractStage.module, root).files);
  assert(train.some((f) => f.endsWith("topk.wgsl")), train.join(", "));
  assert(train.some((f) => f.endsWith(".wgsl") && f.includes("gemm")), train.join(", "));
  assertEquals(extract.filter((f) => f.endsWith(".wgsl")), []);
});

Deno.test("e2e: Ctrl-C during training, then rerun: resumes and ends with the uninterrupted weights", async () => {
  const train = { training_tokens: 20480, checkpoint_every: 4, log_every: 4 };
  const a = await tinySetup(train);
  const clean = await pipeline(["run", "--until", "train"], a);
  assertEquals(clean.code, 0, clean.text);
  const cleanRun = await lastRun(a.store);
  const cleanWeights = await Deno.readFile(join(a.store, "objects", cleanRun.train.key, "sae_weights.safetensors"));

  const b = await tinySetup(train);
  // run up to extract first so the interrupt lands in training
  assertEquals((await pipeline(["run", "--until", "extract"], b)).code, 0);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", cli, "run", "--until", "train", "--config", b.cfgPath, "--store", b.store],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // wait for a checkpoint in the train stage's scratch dir, then send SIGINT
  const scratch = join(b.store, "scratch");
  const t0 = Date.now();
  let found = false;
  while (!found && Date.now() - t0 < 60000) {
    await new Promise((r) => setTimeout(r, 50));
    try {
      for (const e of Deno.readDirSync(scratch)) {
        for (const f of Deno.readDirSync(join(scratch, e.name))) if (f.name.includes("checkpoint")) found = true;
      }
    } catch { /* not created yet */ }
  }
  assert(found, "no checkpoint appeared");
  child.kill("SIGINT");
  const st = await child.status;
  assert(!st.success, "the interrupted run should exit non-zero");
  let recs = await readRunRecords(b.store);
  assertEquals(recs.at(-1)!.stage, "train");
  assertEquals(recs.at(-1)!.status, "failed");

  const resumed = await pipeline(["run", "--until", "train"], b);
  assertEquals(resumed.code, 0, resumed.text);
  assertMatch(resumed.text, /resuming from the checkpoint at step \d+/);
  recs = await readRunRecords(b.store);
  const weights = await Deno.readFile(join(b.store, "objects", recs.at(-1)!.key, "sae_weights.safetensors"));
  assertEquals(weights, cleanWeights);
});
