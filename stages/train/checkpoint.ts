/**
 * Checkpoints in the stage's scratch dir: one `checkpoint.safetensors` holding every device buffer a
 * resume needs (parameters, Adam moments, dead-latent clocks, GPU state) plus metadata (step, a
 * fingerprint of the training config, the log rows so far). Written to a temporary name and renamed,
 * so an interrupt never leaves a torn file.
 */
import { join } from "node:path";
import { readSafetensors, type Tensor, writeSafetensors } from "../io/safetensors.ts";
import { isMissing } from "../../pipeline/missing.ts";

export interface Checkpoint {
  step: number;
  tensors: Record<string, Float32Array | Uint32Array>;
  log: Record<string, number | null>[];
}

const NAME = "checkpoint.safetensors";

export async function saveCheckpoint(dir: string, fingerprint: string, c: Checkpoint): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const tensors: Record<string, Tensor> = {};
  for (const [n, a] of Object.entries(c.tensors)) {
    tensors[n] = { dtype: a instanceof Uint32Array ? "U32" : "F32", shape: [a.length], data: a };
  }
  const tmp = join(dir, `${NAME}.tmp`);
  await writeSafetensors(tmp, tensors, { step: String(c.step), fingerprint, log: JSON.stringify(c.log) });
  await Deno.rename(tmp, join(dir, NAME));
}

/** The checkpoint in `dir` if one exists for this fingerprint, else null. */
export async function loadCheckpoint(dir: string, fingerprint: string): Promise<Checkpoint | null> {
  let file;
  try {
    file = await readSafetensors(join(dir, NAME));
  } catch (e) {
    if (isMissing(e)) return null;
    throw new Error(
      `train: checkpoint ${join(dir, NAME)} is unreadable (${(e as Error).message}); delete it to start over`,
    );
  }
  if (file.metadata.fingerprint !== fingerprint) return null;
  const tensors: Record<string, Float32Array | Uint32Array> = {};
  for (const [n, t] of Object.entries(file.tensors)) tensors[n] = t.data as Float32Array | Uint32Array;
  return { step: Number(file.metadata.step), tensors, log: JSON.parse(file.metadata.log ?? "[]") };
}
