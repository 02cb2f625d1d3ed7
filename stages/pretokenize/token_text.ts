/**
 * Display text of every token id, by the tokenizer's own decoder (SentencePiece's "▁the" -> " the",
 * byte-level BPE's "Ġthe" -> " the", WordPiece's "##ing" -> "ing"), as it reads in running text:
 * decoders treat the first token of a text specially (Metaspace drops its leading space, WordPiece
 * never joins it), so a token's text is decode([anchor, id]) with decode([anchor]) cut off, the anchor
 * being an ordinary token. Where that does not hold (a decoder that rewrites across tokens), it is
 * decode([id]). A byte-level piece holding part of a UTF-8 character decodes to "\uFFFD".
 */
import type { ModelTokenizer } from "./tokenizer.ts";

/** id -> display text for the whole vocabulary (written by pretokenize as token_text.json). */
export function tokenTexts(tok: Pick<ModelTokenizer, "encode" | "decode" | "vocab">): string[] {
  const anchor = tok.encode("x")[0] ?? tok.encode("a")[0];
  const head = anchor === undefined ? null : tok.decode([anchor]);
  return tok.vocab.map((_, id) => {
    if (head !== null) {
      const both = tok.decode([anchor, id]);
      if (both.startsWith(head)) return both.slice(head.length);
    }
    return tok.decode([id]);
  });
}
