/**
 * Top boosted / suppressed tokens of each latent for the export: the logit lens W_dec[l] · W_U of
 * model/logit_lens.ts (no final layer norm), with token texts by the tokenizer's own decoder (pretokenize's
 * `token_text.json`, as in the examples). Only a causal LM whose ONNX graph stores its unembedding has them;
 * otherwise the result is a one-line reason, shown once in the dashboard and logged.
 */
import { join } from "node:path";
import { ifMissing } from "../../pipeline/missing.ts";
import { lensEntries, logitLens } from "../model/logit_lens.ts";
import { findUnembedding } from "../model/unembedding.ts";

/** One latent's top tokens in Neuronpedia's field names (most extreme first). */
export interface LatentTopTokens {
  pos_str: string[];
  pos_values: number[];
  neg_str: string[];
  neg_values: number[];
}

/** latent -> its top tokens (only the latents asked for). */
export type LatentTokenTable = Map<number, LatentTopTokens>;

async function readJsonArray(path: string): Promise<string[] | null> {
  const text = await ifMissing(Deno.readTextFile(path), null);
  return text === null ? null : JSON.parse(text);
}

/** Display text of every token id: token_text.json, else the raw vocabulary pieces. */
async function tokenTexts(pretokenizeDir: string | undefined): Promise<string[]> {
  if (!pretokenizeDir) return [];
  return (await readJsonArray(join(pretokenizeDir, "token_text.json"))) ??
    (await readJsonArray(join(pretokenizeDir, "vocab.json"))) ?? [];
}

/** Work above which the export says how long the CPU logit lens will take (~1-2 min here). */
const LONG_MACS = 5e10;

const round = (v: number) => +v.toPrecision(5);

/**
 * The top `n` boosted and suppressed tokens of `latents`, or why there are none. `modelDir` is the model
 * stage's output (onnx/model.onnx); `dIn` is the SAE's input width, which must be the unembedding's.
 */
export async function latentTopTokens(opts: {
  modelDir: string | undefined;
  pretokenizeDir: string | undefined;
  wDec: ArrayLike<number>;
  dIn: number;
  latents: number[];
  n: number;
  /** One-line notices (a long CPU computation says so before it starts). */
  log?: (line: string) => void;
}): Promise<LatentTokenTable | string> {
  if (opts.n <= 0) return "export.logit_tokens is 0";
  if (!opts.modelDir) return "the export has no model input";
  const u = findUnembedding(await Deno.readFile(join(opts.modelDir, "onnx", "model.onnx")));
  if (typeof u === "string") return u;
  if (u.d !== opts.dIn) return `the unembedding reads width ${u.d}, the SAE's d_in is ${opts.dIn}`;
  const texts = await tokenTexts(opts.pretokenizeDir);
  const text = (t: number) => texts[t] ?? `<${t}>`;
  const macs = opts.latents.length * u.d * u.vocab;
  if (macs > LONG_MACS) {
    opts.log?.(
      `logit lens of ${opts.latents.length} latents × vocab ${u.vocab} runs on the CPU: ${
        (macs / 1e9).toFixed(0)
      } G multiply-adds (minutes at ~1 G/s); set export.logit_tokens=0 or export.dashboard_latents to skip or shorten it`,
    );
  }
  const lens = logitLens(opts.wDec, u, opts.n, opts.latents);
  const out: LatentTokenTable = new Map();
  opts.latents.forEach((l, i) => {
    const e = lensEntries(lens, i);
    out.set(l, {
      pos_str: e.boosted.map(([t]) => text(t)),
      pos_values: e.boosted.map(([, v]) => round(v)),
      neg_str: e.suppressed.map(([t]) => text(t)),
      neg_values: e.suppressed.map(([, v]) => round(v)),
    });
  });
  return out;
}

/** Card lines ("logits" kind) for the dashboard: the boosted and the suppressed tokens, one line each. */
export function topTokenCardLines(t: LatentTopTokens): [string, string][] {
  const list = (s: string[], v: number[]) => s.map((x, i) => `${JSON.stringify(x)} ${v[i]}`).join(", ");
  return [["logits", `boosted: ${list(t.pos_str, t.pos_values)}`], [
    "logits",
    `suppressed: ${list(t.neg_str, t.neg_values)}`,
  ]];
}
