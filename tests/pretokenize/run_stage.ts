/**
 * Runs a stage without the engine: params resolved from its schema, a hand-built ctx, a fresh
 * output directory. Returns the output directory.
 */
import { resolveParams } from "../../pipeline/params.ts";
import type { Stage } from "../../pipeline/stage.ts";

const created: string[] = [];
addEventListener("unload", () => {
  for (const d of created) Deno.removeSync(d, { recursive: true });
});

/** A temporary directory removed when the test process exits. */
export function tempDir(prefix = "sae-test-"): string {
  const d = Deno.makeTempDirSync({ prefix });
  created.push(d);
  return d;
}

export async function runStage<P>(
  stage: Stage<P>,
  overrides: Record<string, unknown>,
  inputs: Record<string, string>,
  outDir = tempDir(`${stage.name}-`),
): Promise<string> {
  const params = resolveParams(stage.name, stage.params, overrides) as P;
  stage.validate?.(params);
  await stage.run({
    params,
    outDir,
    inputs,
    scratchDir: tempDir(),
    config: {},
    progress() {},
    log() {},
    signal: new AbortController().signal,
  });
  return outDir;
}

/** The message of the error `fn` rejects with (fails the test when it resolves). */
export async function errorOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error("expected an error, got none");
}

/** All files of a directory (recursively) -> bytes, for byte-identity checks. */
export function readTree(dir: string, prefix = ""): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const e of [...Deno.readDirSync(dir)].sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = prefix + e.name;
    if (e.isDirectory) { for (const [k, v] of readTree(`${dir}/${e.name}`, rel + "/")) out.set(k, v); }
    else out.set(rel, Deno.readFileSync(`${dir}/${e.name}`));
  }
  return out;
}
