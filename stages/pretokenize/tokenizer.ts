/**
 * The model's tokenizer, loaded offline with transformers.js from the model stage's directory, plus
 * what pretokenize needs beside `encode`: the id -> piece vocabulary (from tokenizer.json), the
 * special token ids, the model's position limit, and each piece's surface text for offset alignment.
 */
import { AutoTokenizer, env } from "@huggingface/transformers";
import { existsSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { type PieceStyle, pieceSurface } from "./surface.ts";

export interface ModelTokenizer {
  /** Token ids of `text`, no special tokens added. */
  encode(text: string): number[];
  /** The text of `ids` by the tokenizer's own decoder (special tokens kept, no space clean-up). */
  decode(ids: number[]): string;
  /** id -> piece as written in tokenizer.json (added tokens included). */
  vocab: string[];
  /** id -> the piece's text, normalised for alignment ("" for special tokens). */
  surfaces: string[];
  special: { bos: number | null; eos: number | null; sep: number | null; pad: number };
  /** The model's maximum sequence length (model.json, config.json), or null when unknown. */
  maxPositions: number | null;
  /** model.json's model_name or the directory name. */
  modelName: string;
}

interface TokenizerJson {
  added_tokens?: { id: number; content: string; special?: boolean }[];
  pre_tokenizer?: unknown;
  decoder?: unknown;
  model: { type?: string; vocab: [string, number][] | Record<string, number>; continuing_subword_prefix?: string };
}

function readJson(path: string): Record<string, unknown> | null {
  return existsSync(path) ? JSON.parse(Deno.readTextFileSync(path)) : null;
}

/** Which piece convention a tokenizer.json uses (searched anywhere in its pre-tokenizer / decoder). */
function pieceStyle(tj: TokenizerJson): PieceStyle {
  const text = JSON.stringify([tj.pre_tokenizer ?? null, tj.decoder ?? null]);
  if (text.includes('"ByteLevel"')) return "bytelevel";
  if (text.includes('"Metaspace"')) return "metaspace";
  if (tj.model.type === "WordPiece") return "wordpiece";
  return "plain";
}

function vocabOf(tj: TokenizerJson): string[] {
  const vocab: string[] = [];
  const v = tj.model.vocab;
  if (Array.isArray(v)) v.forEach(([piece], id) => vocab[id] = piece);
  else for (const [piece, id] of Object.entries(v)) vocab[id] = piece;
  for (const t of tj.added_tokens ?? []) vocab[t.id] = t.content;
  for (let i = 0; i < vocab.length; i++) vocab[i] ??= "";
  return vocab;
}

type ModelEncode = (pretokens: string[]) => string[];

/**
 * Speed-up for SentencePiece-style tokenizers: transformers.js' Metaspace pre-tokenizer hands the
 * whole text to the model as one pre-token, so Unigram runs its lattice over a document at a time
 * and caches nothing. When no vocabulary piece holds "▁" after its first character, no token can
 * span a "▁", so encoding each "▁"-led segment separately gives the same tokens; memoising the
 * segments (words) makes the corpus pass several times faster. Returns whether it was installed.
 */
function memoizeSegments(tok: unknown, vocab: readonly string[], style: PieceStyle): boolean {
  if (style !== "metaspace" || vocab.some((p) => p.indexOf("\u2581", 1) >= 0)) return false;
  const model = (tok as { _tokenizer?: { model?: { encode?: ModelEncode } } })._tokenizer?.model;
  if (!model || typeof model.encode !== "function") return false;
  const encode: ModelEncode = model.encode.bind(model);
  const cache = new Map<string, string[]>();
  model.encode = (pretokens) => {
    const out: string[] = [];
    for (const t of pretokens) {
      let a = 0;
      for (let i = 1; i <= t.length; i++) {
        if (i < t.length && t.charCodeAt(i) !== 0x2581) continue;
        const seg = t.slice(a, i);
        let r = cache.get(seg);
        if (r === undefined) {
          r = encode([seg]);
          if (cache.size < 1 << 20) cache.set(seg, r);
        }
        for (const x of r) out.push(x);
        a = i;
      }
    }
    return out;
  };
  return true;
}

const idOrNull = (v: unknown): number | null => (typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : null);

/**
 * Load the tokenizer of a model directory; throws one line when the directory has none.
 * `exact: true` skips the segment memo (tests compare both).
 */
export async function loadModelTokenizer(
  modelDir: string,
  options: { exact?: boolean } = {},
): Promise<ModelTokenizer> {
  const dir = resolve(modelDir);
  const tjPath = join(dir, "tokenizer.json");
  if (!existsSync(tjPath)) {
    throw new Error(
      `model directory ${dir} has no tokenizer.json: re-run the model stage (or point model at a directory holding tokenizer.json and tokenizer_config.json)`,
    );
  }
  const tj = JSON.parse(Deno.readTextFileSync(tjPath)) as TokenizerJson;
  const config = readJson(join(dir, "config.json")) ?? {};
  const modelJson = readJson(join(dir, "model.json")) ?? {};

  // transformers.js resolves <localModelPath>/<id>/<file>; never reach for the Hub.
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.localModelPath = dirname(dir) + "/";
  const tok = await AutoTokenizer.from_pretrained(basename(dir), { local_files_only: true });

  const vocab = vocabOf(tj);
  const style = pieceStyle(tj);
  if (!options.exact) memoizeSegments(tok, vocab, style);
  const specialIds = new Set((tj.added_tokens ?? []).filter((t) => t.special).map((t) => t.id));
  const surfaces = vocab.map((
    p,
    id,
  ) => (specialIds.has(id) ? "" : pieceSurface(p, style, tj.model.continuing_subword_prefix)));

  const eos = idOrNull(tok.eos_token_id);
  const pad = idOrNull(tok.pad_token_id) ?? idOrNull(config.pad_token_id) ?? eos ?? 0;
  const maxPositions = idOrNull(modelJson.max_positions) ?? idOrNull(config.max_position_embeddings);
  return {
    encode: (text) => tok.encode(text, { add_special_tokens: false }) as number[],
    decode: (ids) => tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false }) as string,
    vocab,
    surfaces,
    special: { bos: idOrNull(tok.bos_token_id), eos, sep: idOrNull(tok.sep_token_id), pad },
    maxPositions,
    modelName: typeof modelJson.model_name === "string" ? modelJson.model_name : basename(dir),
  };
}
