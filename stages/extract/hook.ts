/**
 * The hook point extract reads: resolved by name against the model directory's hooks.json (or the
 * graph itself when that file is missing), checked to be a per-token [batch, seq, d] tensor.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { type HookInfo, listHooks, resolveHook } from "../model/onnx_graph.ts";

export interface ResolvedHook extends HookInfo {
  /** Block index from a `blocks.L.` name (SAELens' hook_layer), 0 for hooks outside the blocks. */
  layer: number;
  /** Values per token: the product of the dims after [batch, seq] (hook_z [b, s, H, dh] -> H·dh). */
  dIn: number;
}

/** Resolve `name` in the model at `modelDir`; one-line errors for an unknown or non-per-token hook. */
export function findHook(modelDir: string, modelBytes: Uint8Array, name: string): ResolvedHook {
  const hooksPath = join(modelDir, "hooks.json");
  const hooks: HookInfo[] = existsSync(hooksPath)
    ? JSON.parse(Deno.readTextFileSync(hooksPath))
    : listHooks(modelBytes);
  const hook = resolveHook(hooks, name);
  const [batch, seq, ...rest] = hook.shape;
  const perToken = hook.shape.length >= 3 && typeof batch !== "number" && typeof seq !== "number" &&
    rest.every((x) => typeof x === "number" && x > 0);
  if (!perToken) {
    throw new Error(
      `hook "${hook.name}" has shape [${
        hook.shape.join(", ")
      }]: extract needs a per-token [batch, seq, ...] hook such as blocks.0.hook_resid_post`,
    );
  }
  const m = /^blocks\.(\d+)\./.exec(hook.name);
  const dIn = (rest as number[]).reduce((a, b) => a * b, 1);
  return { ...hook, layer: m ? Number(m[1]) : 0, dIn };
}
