/**
 * The transcoder's paired activations. `train.target_hook` (a transcoder reads extract.hook and reconstructs
 * that hook) reaches extract as its derived param `target_hook`: one forward pass then writes the target's
 * rows into `target/` of the input hook's object (same layout, same rows files: both hooks go through the same
 * token filter, so row i of `target/` is the token of row i), and, as siblings, the plain objects of both
 * hooks (exactly what a run of a plain SAE on either hook writes), so such a run is a cache hit.
 */
import { ParamError } from "../../pipeline/params.ts";

/** The folder of a paired object that holds the target hook's activations. */
export const TARGET_DIR = "target";

export interface TargetParams {
  hook: string;
  hooks: string[];
  shards: number;
  /** Derived from train.target_hook; absent (not null) when there is none, so plain keys stay as they were. */
  target_hook?: string;
}

/** extract's params with train.target_hook added (when set). */
export function deriveTargetHook<P extends TargetParams>(p: P, config: Record<string, Record<string, unknown>>): P {
  const target = config.train?.target_hook;
  return typeof target === "string" ? { ...p, target_hook: target } : p;
}

/** One-line refusals of what a paired extraction cannot be. */
export function checkTargetHook(p: TargetParams): void {
  const t = p.target_hook;
  if (t === undefined) return;
  if (t === p.hook) {
    throw new ParamError(
      `config key "train.target_hook": "${t}" is extract.hook itself; a transcoder reconstructs another hook (unset it for a plain SAE)`,
    );
  }
  if (p.hooks.length > 0) {
    throw new ParamError(
      `config key "train.target_hook" with extract.hooks (${p.hooks.join(", ")}) is not supported: clear extract.hooks`,
    );
  }
  if (p.shards > 1) {
    throw new ParamError(`config key "train.target_hook" with extract.shards ${p.shards} is not supported: use 1`);
  }
}

/** The plain objects one paired run also writes: the input hook's and the target hook's. */
export function targetSiblings<P extends TargetParams>(p: P): P[] {
  if (p.target_hook === undefined) return [];
  const { target_hook, ...plain } = p;
  return [plain as P, { ...plain, hook: target_hook } as P];
}
