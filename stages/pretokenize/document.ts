/**
 * A corpus as pretokenize sees it: documents of plain text, each with an id and an optional genre,
 * and, where the corpus is POS-tagged, its words (start offsets into `text`) with their tag indices.
 */

export interface TaggedWords {
  /** Start offset (UTF-16 index into the document text) of every word, ascending. */
  start: Uint32Array;
  /** Index into `Corpus.tags` of every word. */
  tag: Uint16Array;
}

export interface Document {
  id: string;
  genre: string | null;
  text: string;
  words?: TaggedWords;
}

export interface Corpus {
  /** What the documents came from (shown in meta.json). */
  name: string;
  documents: Document[];
  /** The tag table that `TaggedWords.tag` indexes (empty when the corpus has no tags). */
  tags: string[];
}

/** Interns strings into a table, indices in order of first appearance (deterministic for a fixed input order). */
export class Interner {
  readonly table: string[] = [];
  #index = new Map<string, number>();

  constructor(readonly limit: number, readonly what: string) {}

  id(s: string): number {
    let i = this.#index.get(s);
    if (i === undefined) {
      i = this.table.length;
      if (i >= this.limit) throw new Error(`corpus has more than ${this.limit} distinct ${this.what}s`);
      this.#index.set(s, i);
      this.table.push(s);
    }
    return i;
  }
}
