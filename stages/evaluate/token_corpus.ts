/**
 * The pretokenize stage's per-token files (stages/CONTRACTS.md), loaded as typed arrays aligned with
 * `tokens.bin` (flat index i = seq · context_size + pos), plus names for display. Missing label files
 * (a corpus without POS tags or genres) read as "no label" everywhere.
 */
import { join } from "node:path";

export interface PretokenizeMeta {
  n_seq: number;
  context_size: number;
  n_tokens: number;
  vocab_size: number;
  pad_token_id: number;
  tags: string[];
  genres: string[];
  [extra: string]: unknown;
}

export const NO_DOC = 0xffffffff;
export const NO_TAG = 0xffff;
export const NO_GENRE = 255;

async function readOptional(path: string): Promise<Uint8Array | null> {
  try {
    return await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return null;
    throw e;
  }
}

function view<T>(
  bytes: Uint8Array | null,
  n: number,
  make: (b: ArrayBuffer) => T,
  fill: () => T,
  what: string,
  width: number,
): T {
  if (!bytes) return fill();
  if (bytes.byteLength !== n * width) {
    throw new Error(`pretokenize ${what}: ${bytes.byteLength} bytes, expected ${n} × ${width}`);
  }
  return make(bytes.slice().buffer);
}

export class TokenCorpus {
  /** Flat index → held-out row ordinal (the order rows appear in the held-out shards), −1 elsewhere. */
  heldoutRow: Int32Array;

  private constructor(
    readonly meta: PretokenizeMeta,
    readonly tokens: Uint32Array,
    readonly doc: Uint32Array,
    readonly tag: Uint16Array,
    readonly genre: Uint8Array,
    readonly vocab: string[],
    readonly docs: { id: string; genre?: string }[],
    /** id -> display text (token_text.json; older outputs: the piece with SentencePiece's ▁ as a space). */
    readonly texts: string[] = vocab.map((p) => p.replaceAll("\u2581", " ")),
  ) {
    this.heldoutRow = new Int32Array(tokens.length).fill(-1);
  }

  static async load(dir: string): Promise<TokenCorpus> {
    const meta = JSON.parse(await Deno.readTextFile(join(dir, "meta.json"))) as PretokenizeMeta;
    const n = meta.n_seq * meta.context_size;
    const tokBytes = await Deno.readFile(join(dir, "tokens.bin"));
    const tokens = view(tokBytes, n, (b) => new Uint32Array(b), () => new Uint32Array(n), "tokens.bin", 4);
    const doc = view(
      await readOptional(join(dir, "doc.bin")),
      n,
      (b) => new Uint32Array(b),
      () => new Uint32Array(n).fill(NO_DOC),
      "doc.bin",
      4,
    );
    const tag = view(
      await readOptional(join(dir, "tag.bin")),
      n,
      (b) => new Uint16Array(b),
      () => new Uint16Array(n).fill(NO_TAG),
      "tag.bin",
      2,
    );
    const genre = view(
      await readOptional(join(dir, "genre.bin")),
      n,
      (b) => new Uint8Array(b),
      () => new Uint8Array(n).fill(NO_GENRE),
      "genre.bin",
      1,
    );
    const vocabText = await readOptional(join(dir, "vocab.json"));
    const vocab: string[] = vocabText ? JSON.parse(new TextDecoder().decode(vocabText)) : [];
    const docsText = await readOptional(join(dir, "docs.json"));
    const docs = docsText ? JSON.parse(new TextDecoder().decode(docsText)) : [];
    const textsJson = await readOptional(join(dir, "token_text.json"));
    const texts = textsJson ? JSON.parse(new TextDecoder().decode(textsJson)) : undefined;
    return new TokenCorpus(
      { ...meta, tags: meta.tags ?? [], genres: meta.genres ?? [] },
      tokens,
      doc,
      tag,
      genre,
      vocab,
      docs,
      texts,
    );
  }

  get contextSize(): number {
    return this.meta.context_size;
  }

  /** Record that held-out rows `rows` (flat indices) are numbered `start, start + 1, …`. */
  markHeldout(rows: Uint32Array, start: number): void {
    for (let i = 0; i < rows.length; i++) {
      if (rows[i] >= this.heldoutRow.length) {
        throw new Error(`held-out row index ${rows[i]} is outside tokens.bin (${this.heldoutRow.length} tokens)`);
      }
      this.heldoutRow[rows[i]] = start + i;
    }
  }

  /** The display text of the token at flat index i. */
  text(i: number): string {
    const id = this.tokens[i];
    return this.texts[id] ?? `<${id}>`;
  }

  tagName(i: number): string | null {
    const t = this.tag[i];
    return t === NO_TAG ? null : this.meta.tags[t] ?? null;
  }

  genreName(i: number): string | null {
    const g = this.genre[i];
    return g === NO_GENRE ? null : this.meta.genres[g] ?? null;
  }

  docName(i: number): string | null {
    const d = this.doc[i];
    return d === NO_DOC ? null : String(this.docs[d]?.id ?? d);
  }
}
