/**
 * Reading a corpus file as UTF-8 text, strictly: a file that is not UTF-8 (Latin-1, UTF-16, binary) fails
 * with one line naming the file and the offset of the first invalid byte, instead of being tokenized as
 * U+FFFD replacement characters.
 */

/**
 * Offset of the first byte that does not start a valid UTF-8 sequence (-1 when all of `bytes` is valid).
 * Valid means what a fatal WHATWG TextDecoder accepts: no overlong forms, no surrogates, nothing past
 * U+10FFFF, no truncated sequence at the end.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  for (let i = 0; i < n;) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number, lo = 0x80, hi = 0xbf;
    if (b >= 0xc2 && b <= 0xdf) need = 1;
    else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      if (b === 0xe0) lo = 0xa0; // overlong
      if (b === 0xed) hi = 0x9f; // surrogates
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      if (b === 0xf0) lo = 0x90; // overlong
      if (b === 0xf4) hi = 0x8f; // above U+10FFFF
    } else return i;
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (i + k >= n || c < lo || c > hi) return i;
      lo = 0x80;
      hi = 0xbf;
    }
    i += need + 1;
  }
  return -1;
}

const strict = new TextDecoder("utf-8", { fatal: true });

/** The file's text; throws one line with the path and the first bad byte when it is not UTF-8. */
export function readUtf8File(path: string): string {
  const bytes = Deno.readFileSync(path);
  try {
    return strict.decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    const hex = at >= 0 ? bytes[at].toString(16).padStart(2, "0") : "??";
    throw new Error(
      `corpus file ${path} is not UTF-8 text: invalid byte 0x${hex} at offset ${at} ` +
        `(convert it first, e.g. iconv -f latin1 -t utf-8 IN > OUT)`,
    );
  }
}
