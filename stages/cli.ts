/** `deno task pipeline`: the engine's CLI over the default stage graph, plus `hooks`. */
import { join, relative, resolve } from "node:path";
import { runCli } from "../pipeline/cli.ts";
import { runPipeline } from "../pipeline/run.ts";
import { createReporter } from "../pipeline/progress.ts";
import { defaultStages } from "./graph.ts";
import type { EvalJson } from "./evaluate/eval_json.ts";
import { ignoreMissing } from "../pipeline/missing.ts";
import { addInspectCommand } from "./inspect/cli.ts";

const root = resolve(new URL("..", import.meta.url).pathname);

async function printResults(storeDir: string, outputs: Record<string, string>, withQuery = true) {
  const obj = (stage: string) => join(storeDir, "objects", outputs[stage]);
  const rel = (p: string) => relative(Deno.cwd(), p) || ".";
  if (outputs.evaluate) {
    try {
      const ev: EvalJson = JSON.parse(await Deno.readTextFile(join(obj("evaluate"), "eval.json")));
      const d = ev.downstream;
      const num = (v: unknown, digits = 3) => typeof v === "number" ? v.toFixed(digits) : "n/a";
      console.log(
        (ev.hook_name_out ? `transcoder quality (held-out, ŷ vs ${ev.hook_name_out})` : "SAE quality (held-out)") +
          `: explained variance ${num(ev.explained_variance)}, L0 ${num(ev.l0, 1)}, ` +
          `dead ${num(ev.dead_latents / ev.d_sae, 3)}, downstream ${num(d?.fraction_recovered_zero)}` +
          (typeof d?.ce_loss_with_sae === "number"
            ? `, CE loss ${num(d.ce_loss_without_sae)} clean / ${num(d.ce_loss_with_sae)} with SAE / ${
              num(d.ce_loss_with_ablation)
            } zero-ablated`
            : ""),
      );
    } catch (e) {
      ignoreMissing(e); // an evaluate object without eval.json: nothing to print
    }
  }
  if (outputs.export) {
    console.log(`dashboard:      ${rel(join(obj("export"), "dashboard", "index.html"))}`);
    console.log(`SAELens folder: ${rel(join(obj("export"), "saelens"))}`);
    const sparsify = join(obj("export"), "sparsify"); // TopK SAEs only
    if (await Deno.stat(sparsify).then(() => true, () => false)) console.log(`sparsify dir:   ${rel(sparsify)}`);
  }
  if (outputs.evaluate && withQuery) {
    console.log(`query:          deno task query "SELECT * FROM latents ORDER BY frequency DESC LIMIT 10"`);
  }
}

const code = await runCli(Deno.args, {
  stages: defaultStages,
  root,
  defaultConfig: join(root, "data", "pipeline.json"),
  defaultStore: join(root, "data", "store"),
  // train and evaluate run WGSL kernels on the one WebGPU device
  gpuStages: ["train", "evaluate"],
  afterRun: async ({ storeDir, runId, outputs, points }) => {
    if (points.length <= 1) return await printResults(storeDir, outputs);
    for (const p of points) {
      console.log(`\npoint ${p.label}`);
      await printResults(storeDir, p.outputs, false);
    }
    const { writeSweepIndex } = await import("./export/sweep_index.ts");
    const index = await writeSweepIndex(storeDir, runId);
    if (index) console.log(`\nsweep index:    ${relative(Deno.cwd(), index)}`);
    console.log(`\ncompare:        deno task query "SELECT point, l0, explained_variance FROM saes ORDER BY l0"`);
  },
  extend(program, resolveOptions) {
    addInspectCommand(program, resolveOptions, {
      config: join(root, "data", "pipeline.json"),
      store: join(root, "data", "store"),
    });
    program.command("hooks")
      .description("list the hookable tensors of the configured model (runs the model stage if needed)")
      .option("-c, --config <file>", "pipeline config (JSON/JSONC)", join(root, "data", "pipeline.json"))
      .option("-s, --set <section.key=value>", "override a config key", (v: string, p: string[]) => [...p, v], [])
      .option("--store <dir>", "the cache store", join(root, "data", "store"))
      .action(async (f) => {
        const opts = await resolveOptions({ ...f, force: [], until: "model", wait: true });
        const res = await runPipeline({ ...opts, reporter: createReporter({ quiet: true }) });
        const { listHooksForModelDir } = await import("./model/hooks_cli.ts");
        const rows = await listHooksForModelDir(join(opts.storeDir, "objects", res.outputs.model));
        const w = Math.max(4, ...rows.map((r: { name: string }) => r.name.length));
        const sw = Math.max(5, ...rows.map((r: { shape: string }) => r.shape.length));
        console.log(`${"hook".padEnd(w)}  name    ${"shape".padEnd(sw)}  op`);
        for (const r of rows) console.log(`${r.name.padEnd(w)}  ${r.names.padEnd(6)}  ${r.shape.padEnd(sw)}  ${r.op}`);
        const raw = rows.filter((r) => r.names === "raw").length;
        console.log(`${rows.length - raw} TransformerLens names (mapped), ${raw} raw ONNX tensor names`);
      });
  },
});
Deno.exit(code);
