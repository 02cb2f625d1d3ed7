/**
 * Which token positions extract keeps (SAELens' `exclude_special_tokens`, ARENA's `seqpos_slice`).
 * Only kept rows enter the shards, so training, evaluation, latent statistics and the downstream
 * splice all see the same tokens.
 *
 *   exclude_special_tokens: null = on for causal LMs (their BOS/EOS/PAD activations have norms that
 *     dwarf every other token's), off for encoders; true = the tokenizer's special tokens (tokenizer.json
 *     added_tokens marked special) plus pretokenize's pad, bos and inserted begin/separator tokens;
 *     false = none; a list of ids = exactly those.
 *   seqpos_slice: [start, end) positions within each context window, as a Python slice: null ends are
 *     open, negative values count from context_size (e.g. [1, null] drops position 0).
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { ParamError } from "../../pipeline/params.ts";

export type ExcludeSpec = boolean | number[] | null;
export type SliceSpec = (number | null)[] | null;

export interface TokenFilter {
  /** Token ids never kept (empty: none excluded). */
  excluded: Set<number>;
  /** Kept positions [start, end) of each window. */
  start: number;
  end: number;
}

export function checkExclude(v: unknown): void {
  const ok = v === null || typeof v === "boolean" ||
    (Array.isArray(v) && v.every((x) => Number.isInteger(x) && x >= 0));
  if (!ok) {
    throw new ParamError(
      `config key "extract.exclude_special_tokens": expected true, false, null or a list of token ids, got ${
        JSON.stringify(v)
      }`,
    );
  }
}

export function checkSlice(v: unknown): void {
  const ok = v === null ||
    (Array.isArray(v) && v.length >= 1 && v.length <= 2 && v.every((x) => x === null || Number.isInteger(x)));
  if (!ok) {
    throw new ParamError(
      `config key "extract.seqpos_slice": expected null or [start, end] (integers or null, as a Python slice), got ${
        JSON.stringify(v)
      }`,
    );
  }
}

/** The special-token fields of pretokenize's meta.json. */
export interface SpecialMeta {
  pad_token_id?: number;
  bos_token_id?: number | null;
  begin_batch_token_id?: number | null;
  sequence_separator_token_id?: number | null;
  begin_sequence_token_id?: number | null;
}

/** The special token ids of a model directory's tokenizer.json plus those pretokenize inserted. */
export function specialTokenIds(modelDir: string, meta: SpecialMeta): number[] {
  const ids = new Set<number>();
  const tjPath = join(modelDir, "tokenizer.json");
  if (existsSync(tjPath)) {
    const tj = JSON.parse(Deno.readTextFileSync(tjPath)) as { added_tokens?: { id: number; special?: boolean }[] };
    for (const t of tj.added_tokens ?? []) if (t.special) ids.add(t.id);
  }
  const inserted = [
    meta.pad_token_id,
    meta.bos_token_id,
    meta.begin_batch_token_id,
    meta.sequence_separator_token_id,
    meta.begin_sequence_token_id,
  ];
  for (const id of inserted) if (typeof id === "number") ids.add(id);
  return [...ids].sort((a, b) => a - b);
}

/** The filter for a context of `C` positions; `special` is called only when special tokens are excluded. */
export function tokenFilter(
  exclude: ExcludeSpec,
  slice: SliceSpec,
  causalLm: boolean,
  C: number,
  special: () => number[],
): TokenFilter {
  const on = exclude === null ? causalLm : exclude;
  const excluded = new Set(Array.isArray(on) ? on : on ? special() : []);
  const at = (v: number | null | undefined, open: number) =>
    v === null || v === undefined ? open : Math.min(C, Math.max(0, v < 0 ? C + v : v));
  const start = at(slice?.[0], 0), end = at(slice?.[1], C);
  if (end <= start) throw new ParamError(`extract.seqpos_slice ${JSON.stringify(slice)} keeps no position of ${C}`);
  return { excluded, start, end };
}

/**
 * The kept rows of sequence `s` (its first `real` positions are real tokens): activations `acts`
 * [C, d] compacted into `out`, their flat indices into `rows`. Returns the number kept.
 */
export function keepRows(
  f: TokenFilter,
  tokens: Uint32Array,
  s: number,
  C: number,
  real: number,
  d: number,
  acts: Float32Array,
  out: Float32Array,
  rows: Uint32Array,
): number {
  let n = 0;
  for (let t = f.start; t < Math.min(real, f.end); t++) {
    if (f.excluded.has(tokens[s * C + t])) continue;
    out.set(acts.subarray(t * d, (t + 1) * d), n * d);
    rows[n++] = s * C + t;
  }
  return n;
}
