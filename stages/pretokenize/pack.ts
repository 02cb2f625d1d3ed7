/**
 * Packs documents' tokens into sequences of `context_size`, the way SAELens' pretokenize runner does
 * (`concat_and_batch_sequences`): documents are concatenated; a new sequence starts with
 * `begin_batch` (unless its first token already is it), each document starts with `begin_sequence`,
 * and a document appended to a non-empty sequence is preceded by `separator` (each skipped when the
 * next token already equals it). A document running past the end continues in the next sequence.
 * Unlike SAELens the last partial sequence is kept, its tail padded. Every position carries
 * metadata (document, POS tag, genre); inserted specials and padding carry the "none" values.
 */

export const NO_DOC = 0xffffffff;
export const NO_TAG = 0xffff;
export const NO_GENRE = 0xff;

export interface PackSpecials {
  beginBatch: number | null;
  beginSequence: number | null;
  separator: number | null;
}

export interface Packed {
  tokens: Uint32Array;
  doc: Uint32Array;
  tag: Uint16Array;
  genre: Uint8Array;
  nSeq: number;
  /** Positions holding corpus or inserted tokens; padding is exactly the flat indices >= nTokens. */
  nTokens: number;
}

/** A typed array that doubles when full. */
class Grow<T extends Uint32Array | Uint16Array | Uint8Array> {
  n = 0;
  constructor(public a: T) {}
  reserve(extra: number) {
    if (this.n + extra <= this.a.length) return;
    const b = new (this.a.constructor as new (n: number) => T)(Math.max(this.a.length * 2, this.n + extra));
    b.set(this.a);
    this.a = b;
  }
}

export class SequencePacker {
  #tokens = new Grow(new Uint32Array(1 << 16));
  #doc = new Grow(new Uint32Array(1 << 16));
  #tag = new Grow(new Uint16Array(1 << 16));
  #genre = new Grow(new Uint8Array(1 << 16));
  /** Positions filled in the current sequence. */
  #fill = 0;

  constructor(readonly contextSize: number, readonly specials: PackSpecials, readonly maxTokens = Infinity) {
    if (contextSize < 2) throw new Error(`context_size must be at least 2, got ${contextSize}`);
  }

  get total(): number {
    return this.#tokens.n;
  }

  /** True once `maxTokens` positions are filled; further documents are ignored. */
  get full(): boolean {
    return this.total >= this.maxTokens;
  }

  #push(id: number, doc: number, tag: number, genre: number) {
    const i = this.#tokens.n++;
    this.#tokens.a[i] = id;
    this.#doc.a[i] = doc;
    this.#tag.a[i] = tag;
    this.#genre.a[i] = genre;
    this.#doc.n = this.#tag.n = this.#genre.n = this.#tokens.n;
  }

  /** Append one document's tokens (`tags` aligned with `ids`, or null when untagged). */
  add(ids: ArrayLike<number>, tags: Uint16Array | null, doc: number, genre: number): void {
    const C = this.contextSize;
    const { beginBatch, beginSequence, separator } = this.specials;
    let off = 0;
    let startOfDoc = true;
    while (off < ids.length && !this.full) {
      const prefix: number[] = [];
      let first = ids[off];
      if (startOfDoc && beginSequence !== null && first !== beginSequence) {
        prefix.push(beginSequence);
        first = beginSequence;
      }
      if (this.#fill === 0) {
        if (beginBatch !== null && first !== beginBatch) prefix.unshift(beginBatch);
      } else if (separator !== null && first !== separator) {
        prefix.unshift(separator);
      }
      const budget = Math.min(C - this.#fill, this.maxTokens - this.total);
      const nPrefix = Math.min(prefix.length, budget);
      const take = Math.min(ids.length - off, budget - nPrefix);
      for (const g of [this.#tokens, this.#doc, this.#tag, this.#genre]) g.reserve(nPrefix + take);
      for (let i = 0; i < nPrefix; i++) this.#push(prefix[i], NO_DOC, NO_TAG, NO_GENRE);
      for (let i = off; i < off + take; i++) this.#push(ids[i], doc, tags ? tags[i] : NO_TAG, genre);
      off += take;
      startOfDoc = false;
      this.#fill = (this.#fill + nPrefix + take) % C;
    }
  }

  /** The packed arrays, the last partial sequence padded with `padId`. */
  finish(padId: number): Packed {
    const C = this.contextSize;
    const nTokens = this.total;
    const nSeq = Math.ceil(nTokens / C);
    const len = nSeq * C;
    const tokens = new Uint32Array(len).fill(padId);
    const doc = new Uint32Array(len).fill(NO_DOC);
    const tag = new Uint16Array(len).fill(NO_TAG);
    const genre = new Uint8Array(len).fill(NO_GENRE);
    tokens.set(this.#tokens.a.subarray(0, nTokens));
    doc.set(this.#doc.a.subarray(0, nTokens));
    tag.set(this.#tag.a.subarray(0, nTokens));
    genre.set(this.#genre.a.subarray(0, nTokens));
    return { tokens, doc, tag, genre, nSeq, nTokens };
  }
}
