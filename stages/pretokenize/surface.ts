/**
 * The "matching form" of text, shared by token pieces and documents so that a piece can be found in
 * the text it came from: NFKC, lower case, every whitespace character a plain space. Pieces also
 * lose their tokenizer-specific markers ("▁", "Ġ", "##", "</w>") and surrounding whitespace.
 */

export type PieceStyle = "metaspace" | "bytelevel" | "wordpiece" | "plain";

/** GPT-2's bytes_to_unicode: byte b is written as the code point BYTE_LEVEL_CHAR[b] in byte-level pieces. */
export const BYTE_LEVEL_CHAR: readonly number[] = (() => {
  const direct = (b: number) => (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
  let extra = 0;
  return Array.from({ length: 256 }, (_, b) => (direct(b) ? b : 256 + extra++));
})();

/** BYTE_LEVEL_CHAR inverted: the printable char a byte-level piece uses -> the byte. */
const BYTE_OF_CHAR: Map<number, number> = new Map(BYTE_LEVEL_CHAR.map((c, b) => [c, b]));

const decoder = new TextDecoder();

function normalizeChunk(s: string): string {
  return s.normalize("NFKC").toLowerCase().replace(/\s/gu, " ");
}

/** The text a vocabulary piece stands for, in matching form ("" when it stands for whitespace only). */
export function pieceSurface(piece: string, style: PieceStyle, wordpiecePrefix = "##"): string {
  let s = piece;
  if (style === "bytelevel") {
    const bytes = new Uint8Array([...s].map((c) => BYTE_OF_CHAR.get(c.codePointAt(0)!) ?? 63));
    s = decoder.decode(bytes);
  } else if (style === "metaspace") {
    s = s.replaceAll("\u2581", " ");
  } else if (style === "wordpiece" && s.startsWith(wordpiecePrefix) && s.length > wordpiecePrefix.length) {
    s = s.slice(wordpiecePrefix.length);
  }
  if (s.endsWith("</w>")) s = s.slice(0, -4);
  return normalizeChunk(s).trim().replace(/ +/g, " ");
}

/**
 * A document in matching form: `norm` and, for each of its UTF-16 units, the index in the original
 * text of the character it came from. ASCII takes a fast path (no normalisation call per char).
 */
export function matchingForm(text: string): { norm: string; origin: Int32Array } {
  const parts: string[] = [];
  const origin = new Int32Array(text.length * 2 + 8);
  let n = 0;
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c < 128) {
      // Run of ASCII: lower case and whitespace -> space keep the length, so origin is the identity.
      let j = i + 1;
      while (j < text.length && text.charCodeAt(j) < 128) j++;
      const run = text.slice(i, j).toLowerCase().replace(/[\t\n\v\f\r]/g, " ");
      if (n + run.length > origin.length) break;
      for (let k = 0; k < run.length; k++) origin[n + k] = i + k;
      parts.push(run);
      n += run.length;
      i = j;
    } else {
      const cp = text.codePointAt(i)!;
      const width = cp > 0xffff ? 2 : 1;
      const out = normalizeChunk(String.fromCodePoint(cp));
      if (n + out.length > origin.length) break;
      for (let k = 0; k < out.length; k++) origin[n + k] = i;
      parts.push(out);
      n += out.length;
      i += width;
    }
  }
  if (i < text.length) return matchingFormSlow(text);
  return { norm: parts.join(""), origin: origin.subarray(0, n) };
}

/** Fallback for text whose normal form more than doubles in length (rare ligature-heavy input). */
function matchingFormSlow(text: string): { norm: string; origin: Int32Array } {
  const parts: string[] = [];
  const origin: number[] = [];
  let i = 0;
  for (const ch of text) {
    const out = normalizeChunk(ch);
    for (let k = 0; k < out.length; k++) origin.push(i);
    parts.push(out);
    i += ch.length;
  }
  return { norm: parts.join(""), origin: Int32Array.from(origin) };
}
