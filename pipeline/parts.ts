/**
 * Partitioned stage runs: a stage may split one run into parts (`Stage.parts`, e.g. extract's forward pass
 * over sequence ranges), each computed by `run` with `ctx.part` into `scratch/<key>/parts/<i>/` under its own
 * claim, possibly as its own job (`run --until <stage> --part i`); `run` with `ctx.parts` then merges them into
 * the output. A part is done when its marker exists (written after its run returned), so a killed part is
 * redone and a finished one never is.
 * The parts live in the key's scratch dir, removed once the merged output is committed.
 */
import { join } from "node:path";
import { claimKey } from "./claims.ts";
import type { AnyStage } from "./run.ts";
import type { StageContext } from "./stage.ts";
import { ignoreMissing } from "./missing.ts";

const DONE = ".part-done";

const exists = (path: string) => Deno.stat(path).then(() => true, () => false);

/** How many parts a run of `s` with `params` has (1: not partitioned). */
export function partCount(s: AnyStage, params: Record<string, unknown>): number {
  return s.parts ? Math.max(1, s.parts(params)) : 1;
}

/**
 * Compute the parts not done yet (only part `only` when given), each under the claim `<key>.part<i>`; returns
 * every part's directory, in order.
 */
export async function runParts(
  s: AnyStage,
  ctx: StageContext,
  storeDir: string,
  key: string,
  only?: number,
): Promise<string[]> {
  const n = partCount(s, ctx.params);
  if (only !== undefined && (only < 0 || only >= n)) throw new Error(`--part ${only}: ${s.name} has ${n} part(s)`);
  const dirs = Array.from({ length: n }, (_, i) => join(ctx.scratchDir, "parts", String(i)));
  for (let i = 0; i < n; i++) {
    if (only !== undefined && i !== only) continue;
    if (await exists(join(dirs[i], DONE))) continue;
    const claim = await claimKey(storeDir, `${key}.part${i}`, `${s.name} part ${i + 1}/${n}`, {
      wait: true,
      onWait: (m) => ctx.log(m),
    });
    try {
      if (await exists(join(dirs[i], DONE))) continue; // done while we waited
      await Deno.remove(dirs[i], { recursive: true }).catch(ignoreMissing);
      await Deno.mkdir(dirs[i], { recursive: true });
      ctx.log(`part ${i + 1}/${n}`);
      await s.run({ ...ctx, part: { index: i, count: n, dir: dirs[i] } });
      ctx.signal.throwIfAborted();
      await Deno.writeTextFile(join(dirs[i], DONE), "");
    } finally {
      claim.release();
    }
  }
  return dirs;
}
