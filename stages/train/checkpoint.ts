/**
 * Checkpoints in the stage's scratch dir: one `checkpoint.safetensors` holding every device buffer a
 * resume needs (parameters, Adam moments, dead-latent clocks, GPU state) plus metadata (step, a
 * fingerprint of the training config, the log rows so far). Written to a temporary name and renamed,
 * so an interrupt never leaves a torn file.
 */
import { join } from "node:path";
import { readSafetensors, type TensorSpec, writeSafetensorsStream } from "../io/safetensors.ts";
import { ignoreMissing, isMissing } from "../../pipeline/missing.ts";

export interface Checkpoint {
  step: number;
  tensors: Record<string, Float32Array | Uint32Array>;
  log: Record<string, number | null>[];
}

const NAME = "checkpoint.safetensors";

/**
 * Write a checkpoint. `tensors` whole, or (wide SAEs) as specs and a stream of their data in order
 * (GpuTrainer.snapshotStream), written one tensor at a time. An error (also one the stream throws, such
 * as a non-finite check) removes the temporary file and leaves the last good checkpoint in place.
 */
export async function saveCheckpoint(
  dir: string,
  fingerprint: string,
  c: Checkpoint | (Omit<Checkpoint, "tensors"> & StreamedTensors),
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  const { specs, data } = "tensors" in c ? streamOf(c.tensors) : c;
  const tmp = join(dir, `${NAME}.tmp`);
  try {
    await writeSafetensorsStream(tmp, specs, data, { step: String(c.step), fingerprint, log: JSON.stringify(c.log) });
  } catch (e) {
    await Deno.remove(tmp).catch(ignoreMissing);
    throw e;
  }
  await Deno.rename(tmp, join(dir, NAME));
}

export interface StreamedTensors {
  specs: TensorSpec[];
  data: AsyncIterable<Float32Array | Uint32Array>;
}

/** Whole tensors as flat F32 / U32 specs and a stream. */
function streamOf(tensors: Checkpoint["tensors"]): StreamedTensors {
  const specs = Object.entries(tensors).map(([name, a]): TensorSpec => ({
    name,
    dtype: a instanceof Uint32Array ? "U32" : "F32",
    shape: [a.length],
  }));
  async function* data() {
    for (const a of Object.values(tensors)) yield a;
  }
  return { specs, data: data() };
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
