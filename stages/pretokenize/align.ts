/**
 * Character offsets of model tokens, and from them the word each token came from. transformers.js
 * returns no offsets, so each token's surface (see surface.ts) is matched against the document's
 * matching form with a forward cursor: skip whitespace, expect the surface at the cursor, else look a
 * few characters ahead (the gap was eaten by an unknown token), else treat the token as an unknown
 * covering one character.
 */
import { matchingForm } from "./surface.ts";

/** How far ahead a surface may be found after an unknown token before we give up on it. */
const RESYNC_WINDOW = 16;

/** Start offset (UTF-16 index into `text`) of every token; `text.length` for tokens after the end. */
export function tokenStarts(text: string, ids: ArrayLike<number>, surfaces: readonly string[]): Int32Array {
  const { norm, origin } = matchingForm(text);
  const starts = new Int32Array(ids.length);
  const n = norm.length;
  let p = 0;
  for (let t = 0; t < ids.length; t++) {
    while (p < n && norm.charCodeAt(p) === 32) p++;
    const s = surfaces[ids[t]] ?? "";
    let start = p;
    if (s.length === 0) {
      // whitespace-only or special piece: it belongs to what follows
    } else if (norm.startsWith(s, p)) {
      p += s.length;
    } else {
      const q = norm.indexOf(s, p);
      if (q >= 0 && q - p <= RESYNC_WINDOW) {
        start = q;
        p = q + s.length;
      } else if (p < n) {
        p++;
      }
    }
    starts[t] = start < n ? origin[start] : text.length;
  }
  return starts;
}

/**
 * Index of the word containing each token start: the last word whose start is <= the token's start
 * (so a token spanning two words takes the first; one starting in the space before a word, the word).
 * `wordStarts` is ascending.
 */
export function wordOfTokens(starts: Int32Array, wordStarts: Uint32Array): Uint32Array {
  const out = new Uint32Array(starts.length);
  let w = 0;
  for (let t = 0; t < starts.length; t++) {
    const s = starts[t];
    while (w + 1 < wordStarts.length && wordStarts[w + 1] <= s) w++;
    out[t] = w;
  }
  return out;
}
