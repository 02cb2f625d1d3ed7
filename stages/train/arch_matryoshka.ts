/**
 * Matryoshka BatchTopK (Bussmann et al. 2025, "Learning Multi-Level Features with Matryoshka SAEs";
 * dictionary_learning's MatryoshkaBatchTopKTrainer; SAELens matryoshka_batchtopk): a BatchTopK SAE
 * whose latents [0, w_0) ⊂ [0, w_1) ⊂ … ⊂ [0, d_sae) are nested prefixes, each of which must
 * reconstruct x on its own:
 *   L = Σ_levels mean_t ‖x − x̂_m‖² + AuxK,   x̂_m = b_dec + Σ_{selected entries, latent < w_m} val·W_dec[latent]
 * One BatchTopK selection over all latents (the paper's and dictionary_learning's rule; SAELens
 * re-selects within each prefix). On the sparse path: the full level is the usual decode and loss; each
 * inner level is one more prefix decode, and kernels/loss/matryoshka_loss.wgsl turns the levels'
 * residuals into the gradient block D_g = Σ_{m ≥ g} dL/dx̂_m that latents of prefix group g receive
 * (kernels/sparse/level_rows.wgsl). Saved, as SAELens does, as a JumpReLU SAE with the BatchTopK threshold.
 */
import type { BoundKernel, RowTexture } from "../../kernels/runtime/mod.ts";
import { createSparseDecode, dvecRows, type LevelRows, MAX_INNER_LEVELS } from "../../kernels/sparse/mod.ts";
import { createMatryoshkaLoss } from "../../kernels/loss/mod.ts";
import type { TrainerConfig } from "./trainer_types.ts";
import { mib, type Range } from "./slab_plan.ts";

/** Check the prefix widths: ascending, the first ≥ k, the last ≤ d_sae, at most 8 levels; one-line errors. */
export function checkMatryoshkaWidths(widths: number[], k: number, d_sae: number): void {
  const where = `train: matryoshka_widths ${JSON.stringify(widths)}`;
  if (!widths.length || !widths.every((w) => Number.isInteger(w))) {
    throw new Error(`${where} must be a list of integers`);
  }
  for (let j = 1; j < widths.length; j++) {
    if (widths[j] <= widths[j - 1]) throw new Error(`${where} must be strictly increasing`);
  }
  if (widths[0] < k) throw new Error(`${where}: the smallest level must hold at least k = ${k} latents`);
  if (widths[widths.length - 1] > d_sae) throw new Error(`${where}: the largest level exceeds d_sae ${d_sae}`);
  if (widths.filter((w) => w < d_sae).length > MAX_INNER_LEVELS) {
    throw new Error(`${where}: at most ${MAX_INNER_LEVELS + 1} levels (d_sae included)`);
  }
}

/**
 * The level gradient rows (dvec: main, AuxK, one block per inner level) stay one [rows·batch, d_in] buffer:
 * check it fits one binding of `bindingBytes`; one-line error.
 */
export function checkMatryoshkaRows(cfg: TrainerConfig, auxCap: number, bindingBytes: number): void {
  const levels = matryoshkaLevels(cfg, auxCap);
  if (!levels) return;
  const rows = dvecRows({ B: cfg.batch, auxCap, levels });
  if (rows * cfg.d_in * 4 <= bindingBytes) return;
  throw new Error(
    `train: matryoshka_batchtopk keeps ${
      rows / cfg.batch
    } gradient blocks of batch_size × d_in (${rows} × ${cfg.d_in} f32 = ${
      mib(rows * cfg.d_in * 4)
    }) in one binding of ${mib(bindingBytes)}; lower batch_size or the number of matryoshka_widths`,
  );
}

/** The inner levels of a matryoshka config (widths below d_sae), undefined for every other architecture. */
export function matryoshkaLevels(cfg: TrainerConfig, auxCap: number): LevelRows | undefined {
  if (cfg.architecture !== "matryoshka_batchtopk") return undefined;
  const widths = (cfg.matryoshkaWidths ?? []).filter((w) => w < cfg.d_sae);
  return widths.length ? { widths, innerBase: auxCap ? 2 : 1 } : undefined;
}

/**
 * The inner levels' prefix decodes and their loss; runs after the full level's loss wrote dvec rows
 * [0, B). Adds Σ_m ‖x − x̂_m‖² per row into rowstats slot 5 (the metrics' penalty slot, coefficient 1).
 * Over a slab plan each prefix decode is one pass per slab that holds latents below the level's width
 * (a latent's level is set by its global index); later slabs add to the first one's rows. The loop is
 * slab-major, so a W_dec row texture shared by the slabs is loaded once per slab (`load(j)`).
 */
export async function matryoshkaKernels(
  c: { device: GPUDevice; cfg: TrainerConfig; x: GPUBuffer; buf(n: number, label: string): GPUBuffer },
  b: { idx: GPUBuffer; val: GPUBuffer; W_dec: GPUBuffer[]; b_dec: GPUBuffer; dvec: GPUBuffer; rowstats: GPUBuffer },
  levels: LevelRows,
  cap: number,
  slabs: Range[],
  tex?: { W_decTex: RowTexture; load(j: number): BoundKernel[] },
): Promise<BoundKernel[]> {
  const { batch: B, d_in: D } = c.cfg;
  const L = levels.widths.length;
  const xhatIn = c.buf(L * B * D, "matryoshka inner reconstructions");
  const out: BoundKernel[] = [];
  for (const [j, s] of slabs.entries()) {
    const inSlab = levels.widths.map((w, m) => ({ w, m })).filter(({ w }) => s.start < w);
    if (!inSlab.length) break; // this slab and the later ones hold no latent of an inner level
    if (tex) out.push(...tex.load(j));
    for (const { w, m } of inSlab) {
      const dims = { rows: B, D, cap, stats: false, idxLimit: w, outRowBase: m * B };
      const split = slabs.length > 1 ? { lo: s.start, hi: s.start + s.size, accumulate: j > 0 } : {};
      const dec = await createSparseDecode(c.device, { ...dims, ...split });
      const bufs = { idx: b.idx, val: b.val, W_dec: b.W_dec[j], b_dec: b.b_dec, out: xhatIn, rowstats: b.rowstats };
      out.push(dec({ ...bufs, W_decTex: tex?.W_decTex }));
    }
  }
  const loss = await createMatryoshkaLoss(c.device, { B, D, levels: L, innerBase: levels.innerBase });
  out.push(loss({ x: c.x, xhat_in: xhatIn, dvec: b.dvec, rowstats: b.rowstats }));
  return out;
}
