/**
 * Synthetic activations with a known sparse dictionary, written in the extract stage's layout:
 * `nDirs` random unit directions in `dIn` dims; each row is a sparse non-negative mix (`l0` distinct
 * directions drawn uniformly, magnitudes uniform in [0.5, 1.5]) plus Gaussian noise.
 */
import { join } from "node:path";
import { ShardWriter } from "../../stages/io/activations.ts";
import { Rng } from "../../stages/train/rng.ts";

export interface Synthetic {
  dir: string;
  dirs: Float64Array; // [nDirs, dIn] unit rows
  dIn: number;
  nDirs: number;
}

export function syntheticRows(dirs: Float64Array, dIn: number, n: number, l0: number, noise: number, rng: Rng) {
  const nDirs = dirs.length / dIn;
  const x = new Float32Array(n * dIn);
  for (let t = 0; t < n; t++) {
    const chosen = new Set<number>();
    while (chosen.size < l0) chosen.add(rng.int(nDirs));
    for (const i of chosen) {
      const a = 0.5 + rng.next();
      for (let d = 0; d < dIn; d++) x[t * dIn + d] += a * dirs[i * dIn + d];
    }
    for (let d = 0; d < dIn; d++) x[t * dIn + d] += noise * rng.normal();
  }
  return x;
}

export function randomDirections(nDirs: number, dIn: number, rng: Rng): Float64Array {
  const dirs = new Float64Array(nDirs * dIn);
  for (let i = 0; i < nDirs; i++) {
    let s = 0;
    for (let d = 0; d < dIn; d++) s += (dirs[i * dIn + d] = rng.normal()) ** 2;
    for (let d = 0; d < dIn; d++) dirs[i * dIn + d] /= Math.sqrt(s);
  }
  return dirs;
}

/** Write train/heldout shards + meta.json into a new temp dir. */
export async function writeSynthetic(
  o: {
    dIn: number;
    nDirs: number;
    nTrain: number;
    nHeld: number;
    l0: number;
    noise: number;
    seed: number;
    shardRows?: number;
  },
): Promise<Synthetic> {
  const dir = await Deno.makeTempDir({ prefix: "sae_synth_" });
  const rng = new Rng(o.seed, 7);
  const dirs = randomDirections(o.nDirs, o.dIn, rng);
  const splits: Record<string, unknown> = {};
  let meanNorm = 0;
  for (const [split, n] of [["train", o.nTrain], ["heldout", o.nHeld]] as const) {
    const w = new ShardWriter(dir, split, o.dIn, o.shardRows ?? 8192);
    const x = syntheticRows(dirs, o.dIn, n, o.l0, o.noise, rng);
    await w.append(x, Uint32Array.from({ length: n }, (_, i) => i));
    const info = await w.finish();
    if (split === "train") meanNorm = info.mean_norm;
    splits[split] = { n_tokens: info.n_tokens, shards: info.shards };
  }
  const meta = {
    model_name: "synthetic",
    hook_name: "blocks.0.hook_resid_post",
    hook_layer: 0,
    d_in: o.dIn,
    dtype: "float32",
    context_size: 128,
    prepend_bos: false,
    dataset_path: "synthetic",
    mean_norm: meanNorm,
    splits,
  };
  await Deno.writeTextFile(join(dir, "meta.json"), JSON.stringify(meta));
  return { dir, dirs, dIn: o.dIn, nDirs: o.nDirs };
}

/** Fraction of true directions matched by some decoder row with cosine > `min`. */
export function recovered(dirs: Float64Array, W_dec: ArrayLike<number>, dIn: number, min = 0.9): number {
  const nDirs = dirs.length / dIn;
  const S = W_dec.length / dIn;
  const norms = new Float64Array(S);
  for (let i = 0; i < S; i++) {
    let s = 0;
    for (let d = 0; d < dIn; d++) s += W_dec[i * dIn + d] ** 2;
    norms[i] = Math.sqrt(s) || 1;
  }
  let hit = 0;
  for (let j = 0; j < nDirs; j++) {
    let best = -1;
    for (let i = 0; i < S; i++) {
      let c = 0;
      for (let d = 0; d < dIn; d++) c += dirs[j * dIn + d] * W_dec[i * dIn + d];
      best = Math.max(best, c / norms[i]);
    }
    if (best > min) hit++;
  }
  return hit / nDirs;
}
