/** The tiny pipeline of the e2e tests: the tiny ONNX model fixture, a Brown slice, a small SAE, run through the real CLI. */
import { join } from "node:path";
import { makeTinyModelDir } from "../fixtures/tiny_model.ts";
import { readRunRecords } from "../../pipeline/records.ts";

export const root = new URL("../..", import.meta.url).pathname;
export const cli = join(root, "stages/cli.ts");

/** A tiny config (train section overridable) in a new temp dir, or in `dir` reusing its model and store. */
export async function tinySetup(train: Record<string, unknown> = {}, reuse?: string) {
  const dir = reuse ?? await Deno.makeTempDir({ prefix: "e2e_" });
  if (!reuse) await makeTinyModelDir(join(dir, "model"));
  const config = {
    model: { source: join(dir, "model") },
    pretokenize: { corpus: "brown", context_size: 32, max_tokens: 6144 },
    extract: { hook: "blocks.0.hook_resid_post", batch_size: 16, heldout_fraction: 0.25 },
    train: { d_sae: 64, k: 4, batch_size: 256, training_tokens: 4096, lr: 0.004, log_every: 2, ...train },
    evaluate: { downstream_sequences: 4, top_n: 3, quantile_examples: 1 },
    export: {},
  };
  const cfgPath = join(dir, "pipeline.json");
  await Deno.writeTextFile(cfgPath, JSON.stringify(config));
  return { dir, cfgPath, store: join(dir, "store") };
}

/** The real CLI on that config and store. */
export async function pipeline(args: string[], opts: { store: string; cfgPath: string }) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", cli, ...args, "--config", opts.cfgPath, "--store", opts.store],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, text };
}

/** The stage records of the store's last run, by stage. */
export async function lastRun(store: string) {
  const recs = await readRunRecords(store);
  const id = recs.at(-1)!.run_id;
  return Object.fromEntries(recs.filter((r) => r.run_id === id).map((r) => [r.stage, r]));
}
