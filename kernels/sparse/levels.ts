/**
 * Matryoshka levels as the sparse kernels see them (./level_rows.wgsl): the inner prefix widths and
 * where their gradient blocks start in dvec. dvec rows: [0, B) the full SAE's reconstruction gradient,
 * [B, 2B) AuxK's (when on), then one block of B rows per inner level g holding D_g.
 */
export interface LevelRows {
  /** Inner prefix widths, ascending, each < d_sae (at most 7). */
  widths: number[];
  /** First inner block, in units of B rows (2 with AuxK, else 1). */
  innerBase: number;
}

export const MAX_INNER_LEVELS = 7;

/** The override constants of ./level_rows.wgsl. */
export function levelConstants(l?: LevelRows): Record<string, number> {
  if (!l || l.widths.length === 0) return {};
  if (l.widths.length > MAX_INNER_LEVELS) {
    throw new Error(`matryoshka: at most ${MAX_INNER_LEVELS + 1} levels, got ${l.widths.length + 1}`);
  }
  const c: Record<string, number> = { L_IN: l.widths.length, INNER_BASE: l.innerBase };
  l.widths.forEach((w, k) => c[`MW${k}`] = w);
  return c;
}

/** Rows of the dvec buffer (and its row texture). */
export function dvecRows(d: { B: number; auxCap: number; levels?: LevelRows }): number {
  return d.levels?.widths.length ? (d.levels.innerBase + d.levels.widths.length) * d.B : (d.auxCap > 0 ? 2 : 1) * d.B;
}

/** Float64 mirror of block_of(i): the dvec block a main entry of latent i reads. */
export function blockOf(i: number, l?: LevelRows): number {
  if (!l || l.widths.length === 0) return 0;
  const g = l.widths.filter((w) => i >= w).length;
  return g >= l.widths.length ? 0 : l.innerBase + g;
}
