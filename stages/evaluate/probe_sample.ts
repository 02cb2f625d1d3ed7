/**
 * The bounded, seeded sample of held-out tokens that sparse probing and feature absorption work on,
 * collected during evaluate's main pass (raw activation row + its sparse SAE code per kept token), and
 * the per-sequence mean-pooled vectors for sequence-level (genre) probes.
 *
 * Which tokens are kept is decided before the pass from the held-out rows alone (`planProbeSample`):
 * every token gets a hash h(row, seed) ∈ [0, 1) and is kept when h < its rate, where
 *   POS class T with n_T ≥ min_support held-out tokens (the `max_classes` largest):  rate = examples / n_T
 *   the uniform negative pool (any token):                                          rate = examples / N
 *   word-initial tokens starting with a letter (absorption):                        rate = absorption / n_word
 * so the sample holds about examples·(classes + 1) + absorption tokens whatever N is (memory is bounded
 * by the parameters, not by the number of held-out tokens), and the same config keeps the same tokens.
 */
import { sampleHash } from "./latent_heaps.ts";
import type { SparseCodes } from "./sparse_codes.ts";
import { NO_GENRE, NO_TAG, type TokenCorpus } from "./token_corpus.ts";

export interface SampleOptions {
  /** Positives kept per POS class (and as many negatives in the pool); 0 disables token probes. */
  examples: number;
  minSupport: number;
  maxClasses: number;
  /** Word-initial letter tokens kept for absorption; 0 disables absorption. */
  absorption: number;
  /** Sequences pooled for genre probes; 0 disables them. */
  maxSequences: number;
  seed: number;
}

/** Salts of the independent hashes (one per decision, so they do not correlate). */
export const SALT = { keep: 0x51ed, letter: 0xa11e, split: 0x5b1d, order: 0x0bde, seq: 0x5e9, random: 0x7a3d };

export function hash01(row: number, seed: number, salt: number): number {
  return sampleHash(row, (seed * 0x10001 + salt) >>> 0);
}

/** The first letter (0 = a … 25 = z) of a word-initial token piece (`▁word`, `Ġword`), else −1. */
export function firstLetter(piece: string): number {
  if (piece.length < 2 || (piece[0] !== "▁" && piece[0] !== "Ġ")) return -1;
  const c = piece.charCodeAt(1) | 0x20; // ASCII lower case
  return c >= 97 && c <= 122 && /[A-Za-z]/.test(piece[1]) ? c - 97 : -1;
}

export interface ProbePlan {
  /** Tag ids probed, by descending held-out support. */
  classes: number[];
  /** Keep rate per tag id (0 for tags not probed). */
  classRate: Float64Array;
  poolRate: number;
  letterRate: number;
  /** Letter per vocabulary id (−1 when the piece does not start a word with a letter). */
  letterOfToken: Int8Array;
  seqRate: number;
  support: Map<number, number>;
  seed: number;
}

/** Decide the sample from the held-out rows (flat token indices) that the main pass will see. */
export function planProbeSample(corpus: TokenCorpus, rows: Uint32Array, o: SampleOptions): ProbePlan {
  const counts = new Map<number, number>();
  const letterOfToken = new Int8Array(Math.max(corpus.vocab.length, 1)).fill(-1);
  corpus.vocab.forEach((p, id) => (letterOfToken[id] = firstLetter(p)));
  let nWord = 0;
  for (const r of rows) {
    const t = corpus.tag[r];
    if (t !== NO_TAG) counts.set(t, (counts.get(t) ?? 0) + 1);
    if ((letterOfToken[corpus.tokens[r]] ?? -1) >= 0) nWord++;
  }
  const classes = o.examples > 0
    ? [...counts].filter(([, c]) => c >= o.minSupport).sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, o.maxClasses).map(([t]) => t)
    : [];
  const classRate = new Float64Array(corpus.meta.tags.length);
  for (const t of classes) classRate[t] = Math.min(1, o.examples / counts.get(t)!);
  const nSeq = new Set(Array.from(rows, (r) => Math.floor(r / corpus.contextSize))).size;
  return {
    classes,
    classRate,
    poolRate: classes.length ? Math.min(1, o.examples / Math.max(1, rows.length)) : 0,
    letterRate: o.absorption > 0 ? Math.min(1, o.absorption / Math.max(1, nWord)) : 0,
    letterOfToken,
    seqRate: o.maxSequences > 0 && corpus.meta.genres.length ? Math.min(1, o.maxSequences / Math.max(1, nSeq)) : 0,
    support: counts,
    seed: o.seed,
  };
}

/** Kept tokens: raw activation rows and sparse codes, in the order the main pass met them. */
export interface TokenExamples {
  n: number;
  dIn: number;
  rows: Uint32Array;
  x: Float32Array;
  offsets: Uint32Array;
  idx: Uint32Array;
  val: Float32Array;
}

/** Growable typed-array buffer (amortised doubling). */
class Grow<T extends Float32Array | Uint32Array> {
  n = 0;
  constructor(public a: T, private readonly make: (n: number) => T) {}
  push(v: ArrayLike<number>): void {
    if (this.n + v.length > this.a.length) {
      const b = this.make(Math.max(this.a.length * 2, this.n + v.length));
      b.set(this.a.subarray(0, this.n));
      this.a = b;
    }
    this.a.set(v, this.n);
    this.n += v.length;
  }
  done(): T {
    return this.a.slice(0, this.n) as T;
  }
}

export class TokenSample {
  #rows = new Grow(new Uint32Array(1024), (n) => new Uint32Array(n));
  #x: Grow<Float32Array>;
  #offsets: number[] = [0];
  #idx = new Grow(new Uint32Array(1024), (n) => new Uint32Array(n));
  #val = new Grow(new Float32Array(1024), (n) => new Float32Array(n));

  constructor(readonly plan: ProbePlan, readonly corpus: TokenCorpus, readonly dIn: number) {
    this.#x = new Grow(new Float32Array(1024 * dIn), (n) => new Float32Array(n));
  }

  /** Whether the plan keeps the token at flat index `row`. */
  keeps(row: number): boolean {
    const p = this.plan, h = hash01(row, p.seed, SALT.keep);
    const t = this.corpus.tag[row];
    if (h < p.poolRate || (t !== NO_TAG && h < (p.classRate[t] ?? 0))) return true;
    return p.letterRate > 0 && (p.letterOfToken[this.corpus.tokens[row]] ?? -1) >= 0 &&
      hash01(row, p.seed, SALT.letter) < p.letterRate;
  }

  /** Keep the planned tokens of one batch: `x` [codes.n, dIn], `rows` their flat indices. */
  add(x: Float32Array, codes: SparseCodes, rows: Uint32Array): void {
    const d = this.dIn;
    for (let t = 0; t < codes.n; t++) {
      if (!this.keeps(rows[t])) continue;
      this.#rows.push([rows[t]]);
      this.#x.push(x.subarray(t * d, (t + 1) * d));
      const a = codes.offsets[t], b = codes.offsets[t + 1];
      this.#idx.push(codes.idx.subarray(a, b));
      this.#val.push(codes.val.subarray(a, b));
      this.#offsets.push(this.#idx.n);
    }
  }

  result(): TokenExamples {
    return {
      n: this.#rows.n,
      dIn: this.dIn,
      rows: this.#rows.done(),
      x: this.#x.done(),
      offsets: Uint32Array.from(this.#offsets),
      idx: this.#idx.done(),
      val: this.#val.done(),
    };
  }
}

/** Mean-pooled held-out sequences with their majority genre. */
export interface PooledSequences {
  n: number;
  dIn: number;
  /** Sequence index per pooled example. */
  seqs: Uint32Array;
  genre: Uint8Array;
  /** Mean raw activation per sequence [n, dIn]. */
  x: Float32Array;
  /** Mean SAE code per sequence (CSR, latents ascending). */
  offsets: Uint32Array;
  idx: Uint32Array;
  val: Float32Array;
}

interface SequencePart {
  seq: number;
  n: number;
  x: Float64Array;
  idx: Uint32Array;
  val: Float64Array;
  genres: Uint32Array;
}

/**
 * Sums raw activations and codes per sampled sequence. Held-out rows arrive sequence by sequence, so one
 * dense accumulator (the open sequence) is flushed to a compact part whenever the sequence changes; a
 * sequence met again later gets a second part, merged at the end. Memory: d_in + non-zero latents per
 * sampled sequence.
 */
export class SequencePool {
  #parts: SequencePart[] = [];
  #seq = -1;
  #n = 0;
  #x: Float64Array;
  #lat: Float64Array;
  #touched: number[] = [];
  #genres: Uint32Array;

  constructor(readonly plan: ProbePlan, readonly corpus: TokenCorpus, readonly dIn: number, readonly dSae: number) {
    this.#x = new Float64Array(dIn);
    this.#lat = new Float64Array(plan.seqRate > 0 ? dSae : 0);
    this.#genres = new Uint32Array(corpus.meta.genres.length);
  }

  keeps(seq: number): boolean {
    return hash01(seq, this.plan.seed, SALT.seq) < this.plan.seqRate;
  }

  add(x: Float32Array, codes: SparseCodes, rows: Uint32Array): void {
    if (this.plan.seqRate === 0) return;
    const S = this.corpus.contextSize, d = this.dIn;
    for (let t = 0; t < codes.n; t++) {
      const seq = Math.floor(rows[t] / S);
      if (seq !== this.#seq) {
        this.#flush();
        this.#seq = seq;
      }
      if (!this.keeps(seq)) continue;
      for (let j = 0; j < d; j++) this.#x[j] += x[t * d + j];
      for (let e = codes.offsets[t]; e < codes.offsets[t + 1]; e++) {
        const v = codes.val[e], l = codes.idx[e];
        if (v === 0) continue;
        if (this.#lat[l] === 0) this.#touched.push(l);
        this.#lat[l] += v;
      }
      this.#n++;
      const g = this.corpus.genre[rows[t]];
      if (g !== NO_GENRE && g < this.#genres.length) this.#genres[g]++;
    }
  }

  #flush(): void {
    if (this.#n > 0) {
      const idx = Uint32Array.from(this.#touched).sort();
      this.#parts.push({
        seq: this.#seq,
        n: this.#n,
        x: this.#x.slice(),
        idx,
        val: Float64Array.from(idx, (l) => this.#lat[l]),
        genres: this.#genres.slice(),
      });
    }
    for (const l of this.#touched) this.#lat[l] = 0;
    this.#touched = [];
    this.#x.fill(0);
    this.#genres.fill(0);
    this.#n = 0;
  }

  /** Sequences with a genre, in ascending sequence order; genre = the most frequent among its tokens. */
  result(): PooledSequences {
    this.#flush();
    const bySeq = new Map<number, SequencePart[]>();
    for (const p of this.#parts) bySeq.set(p.seq, [...(bySeq.get(p.seq) ?? []), p]);
    const d = this.dIn, merged: { seq: number; genre: number; x: Float64Array; lat: Map<number, number> }[] = [];
    for (const [seq, parts] of [...bySeq].sort((a, b) => a[0] - b[0])) {
      const x = new Float64Array(d), genres = new Uint32Array(this.#genres.length), lat = new Map<number, number>();
      let n = 0;
      for (const p of parts) {
        n += p.n;
        for (let j = 0; j < d; j++) x[j] += p.x[j];
        for (let g = 0; g < genres.length; g++) genres[g] += p.genres[g];
        p.idx.forEach((l, e) => lat.set(l, (lat.get(l) ?? 0) + p.val[e]));
      }
      let best = -1;
      for (let g = 0; g < genres.length; g++) if (genres[g] > 0 && (best < 0 || genres[g] > genres[best])) best = g;
      if (best < 0) continue;
      for (let j = 0; j < d; j++) x[j] /= n;
      for (const [l, s] of lat) lat.set(l, s / n);
      merged.push({ seq, genre: best, x, lat });
    }
    const n = merged.length;
    const x = new Float32Array(n * d), offsets = new Uint32Array(n + 1), idx: number[] = [], val: number[] = [];
    merged.forEach((m, i) => {
      x.set(m.x, i * d);
      for (const [l, v] of [...m.lat].sort((a, b) => a[0] - b[0])) {
        idx.push(l);
        val.push(v);
      }
      offsets[i + 1] = idx.length;
    });
    return {
      n,
      dIn: d,
      seqs: Uint32Array.from(merged, (m) => m.seq),
      genre: Uint8Array.from(merged, (m) => m.genre),
      x,
      offsets,
      idx: Uint32Array.from(idx),
      val: Float32Array.from(val),
    };
  }
}
