/**
 * `deno task pipeline inspect "any text"`: brings the run up to date through evaluate (a no-op when cached),
 * then prints, per token of the text, its top latents with activation, frequency and label (inspect.ts).
 */
import type { Command } from "commander";
import { join } from "node:path";
import type { CommonFlags } from "../../pipeline/cli.ts";
import { createReporter } from "../../pipeline/progress.ts";
import { type PipelineOptions, runPipeline } from "../../pipeline/run.ts";
import { formatInspect } from "./format.ts";
import { inspectDirs } from "./inspect.ts";

interface InspectFlags {
  config: string;
  set: string[];
  store: string;
  format: string;
  top: string;
  topLogits?: string | true;
}

export function addInspectCommand(
  program: Command,
  resolveOptions: (o: CommonFlags) => Promise<PipelineOptions>,
  defaults: { config: string; store: string },
): void {
  program.command("inspect <text>")
    .description("run the model and the SAE on a text: each token's top latents with activation, frequency, label")
    .option("-c, --config <file>", "pipeline config (JSON/JSONC)", defaults.config)
    .option("-s, --set <section.key=value>", "override a config key", (v: string, p: string[]) => [...p, v], [])
    .option("--store <dir>", "the cache store", defaults.store)
    .option("--format <table|json>", "output format", "table")
    .option("--top <n>", "latents shown per token", "5")
    .option("--top-logits [n]", "causal LMs: each latent's top boosted/suppressed tokens (W_dec·W_U), n of each", false)
    .action(async (text: string, f: InspectFlags) => {
      if (f.format !== "table" && f.format !== "json") {
        throw new Error(`--format must be table or json, not "${f.format}"`);
      }
      const top = Number(f.top), topLogits = f.topLogits === true ? 5 : f.topLogits ? Number(f.topLogits) : 0;
      if (!Number.isInteger(top) || top < 1) throw new Error(`--top must be a positive integer, not "${f.top}"`);
      if (!Number.isInteger(topLogits) || topLogits < 0) throw new Error(`--top-logits must be an integer ≥ 0`);
      const opts = await resolveOptions({ ...f, force: [], until: "evaluate", wait: true });
      const t0 = performance.now();
      const res = await runPipeline({ ...opts, reporter: createReporter({ quiet: true }) });
      const ran = res.records.filter((r) => r.status === "ran").map((r) => r.stage);
      if (ran.length) {
        console.error(`inspect: ran ${ran.join(", ")} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      }
      const dir = (s: string) => (res.outputs[s] ? join(opts.storeDir, "objects", res.outputs[s]) : undefined);
      const result = await inspectDirs({
        model: dir("model")!,
        pretokenize: dir("pretokenize"),
        extract: dir("extract")!,
        train: dir("train")!,
        evaluate: dir("evaluate"),
      }, { text, top, topLogits });
      console.log(f.format === "json" ? JSON.stringify(result, null, 1) : formatInspect(result));
    });
}
