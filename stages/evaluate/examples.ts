/**
 * Rows of `examples.parquet`: for each latent its top-N activating tokens and a few tokens from lower
 * quantiles of its firing distribution, each with a window of context (token texts by the tokenizer's decoder)
 * and the latent's activation at every token of the window (read back from the codes spool).
 */
import type { CodesSpool } from "./codes_spool.ts";
import type { LatentHeaps } from "./latent_heaps.ts";
import type { TokenCorpus } from "./token_corpus.ts";
import { EXAMPLES_SCHEMA } from "./parquet_schemas.ts";

export { EXAMPLES_SCHEMA };

interface Pick {
  latent: number;
  kind: "top" | "quantile";
  rank: number;
  quantile: number | null;
  activation: number;
  token: number;
}

/**
 * Choose the examples: the top heap in order, then `perLatent` picks from the firing sample at the
 * quantiles q_i = (i + ½)/perLatent of its activation order, skipping tokens already shown as top.
 */
export function pickExamples(top: LatentHeaps, sample: LatentHeaps, perLatent: number): Pick[] {
  const picks: Pick[] = [];
  for (let l = 0; l < top.dSae; l++) {
    const best = top.sorted(l);
    const seen = new Set(best.map((e) => e.token));
    best.forEach((e, rank) =>
      picks.push({ latent: l, kind: "top", rank, quantile: null, activation: e.value, token: e.token })
    );
    const pool = sample.sorted(l).filter((e) => !seen.has(e.token)).sort((a, b) =>
      a.value - b.value || a.token - b.token
    );
    const used = new Set<number>();
    for (let i = 0; i < perLatent && used.size < pool.length; i++) {
      const q = (i + 0.5) / perLatent;
      let j = Math.min(pool.length - 1, Math.floor(q * pool.length));
      while (used.has(j)) j = (j + 1) % pool.length;
      used.add(j);
      picks.push({
        latent: l,
        kind: "quantile",
        rank: i,
        quantile: q,
        activation: pool[j].value,
        token: pool[j].token,
      });
    }
  }
  return picks;
}

/**
 * Example rows with context windows of `window` tokens each side (clipped to the sequence and to
 * non-padding tokens), the latent's activation on each window token looked up in the spool.
 */
export async function exampleRows(
  picks: Pick[],
  corpus: TokenCorpus,
  spool: CodesSpool,
  window: number,
): Promise<Record<string, unknown>[]> {
  const ctx = corpus.contextSize;
  const spans = picks.map((p) => {
    const seq = Math.floor(p.token / ctx), pos = p.token % ctx;
    let a = pos, b = pos;
    while (a > 0 && pos - a < window && corpus.heldoutRow[seq * ctx + a - 1] >= 0) a--;
    while (b < ctx - 1 && b - pos < window && corpus.heldoutRow[seq * ctx + b + 1] >= 0) b++;
    return { seq, pos, a, b };
  });
  let total = 0;
  for (const s of spans) total += s.b - s.a + 1;
  const rows = new Uint32Array(total), latents = new Uint32Array(total);
  let q = 0;
  spans.forEach((s, i) => {
    for (let p = s.a; p <= s.b; p++, q++) {
      const r = corpus.heldoutRow[s.seq * ctx + p];
      if (r < 0) throw new Error(`example window token ${s.seq * ctx + p} is not a held-out token`);
      rows[q] = r;
      latents[q] = picks[i].latent;
    }
  });
  const acts = await spool.lookup(rows, latents);
  const out: Record<string, unknown>[] = [];
  q = 0;
  spans.forEach((s, i) => {
    const p = picks[i], n = s.b - s.a + 1;
    const tokens: string[] = [];
    for (let t = s.a; t <= s.b; t++) tokens.push(corpus.text(s.seq * ctx + t));
    out.push({
      latent: p.latent,
      kind: p.kind,
      rank: p.rank,
      quantile: p.quantile,
      activation: p.activation,
      token_index: p.token,
      seq: s.seq,
      pos: s.pos,
      token: tokens[s.pos - s.a],
      tag: corpus.tagName(p.token),
      genre: corpus.genreName(p.token),
      doc: corpus.docName(p.token),
      center: s.pos - s.a,
      tokens,
      acts: acts.subarray(q, q + n),
      text: tokens.join(""),
    });
    q += n;
  });
  return out;
}
