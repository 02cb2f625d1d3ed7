import { assertEquals, assertThrows } from "../assert.ts";
import { NO_DOC, NO_GENRE, NO_TAG, type PackSpecials, SequencePacker } from "../../stages/pretokenize/pack.ts";
import { permutation, shuffleSequences } from "../../stages/pretokenize/shuffle.ts";

const NONE: PackSpecials = { beginBatch: null, beginSequence: null, separator: null };
const PAD = 0;

function pack(docs: number[][], specials: PackSpecials, C = 5, max = Infinity) {
  const p = new SequencePacker(C, specials, max);
  docs.forEach((ids, d) => p.add(ids, Uint16Array.from(ids, (x) => x * 10), d, 7 + d));
  const out = p.finish(PAD);
  const rows = [];
  for (let s = 0; s < out.nSeq; s++) rows.push([...out.tokens.subarray(s * C, s * C + C)]);
  return { ...out, rows };
}

Deno.test("pack: plain concatenation, document spills into the next sequence, tail padded", () => {
  const out = pack([[11, 12, 13], [21, 22, 23, 24]], NONE);
  assertEquals(out.rows, [[11, 12, 13, 21, 22], [23, 24, PAD, PAD, PAD]]);
  assertEquals(out.nTokens, 7);
  assertEquals([...out.doc], [0, 0, 0, 1, 1, 1, 1, NO_DOC, NO_DOC, NO_DOC]);
  assertEquals([...out.genre], [7, 7, 7, 8, 8, 8, 8, NO_GENRE, NO_GENRE, NO_GENRE]);
  assertEquals([...out.tag.subarray(0, 7)], [110, 120, 130, 210, 220, 230, 240]);
  assertEquals(out.tag[7], NO_TAG);
});

Deno.test("pack: SAELens begin_batch + separator (separator fills the last slot, bos opens the next)", () => {
  const out = pack([[11, 12, 13], [21, 22, 23, 24]], { beginBatch: 9, beginSequence: null, separator: 8 });
  // concat_and_batch_sequences gives [9,11,12,13,8] then [9,21,22,23,24].
  assertEquals(out.rows, [[9, 11, 12, 13, 8], [9, 21, 22, 23, 24]]);
  assertEquals(out.nTokens, 10);
  assertEquals([...out.doc], [NO_DOC, 0, 0, 0, NO_DOC, NO_DOC, 1, 1, 1, 1]);
});

Deno.test("pack: begin_sequence per document, no duplicate when a document already starts with it", () => {
  const out = pack([[11, 12], [5, 22], [31]], { beginBatch: null, beginSequence: 5, separator: null }, 4);
  assertEquals(out.rows, [[5, 11, 12, 5], [22, 5, 31, PAD]]);
  assertEquals([...out.doc.subarray(0, 7)], [NO_DOC, 0, 0, 1, 1, NO_DOC, 2]);
});

Deno.test("pack: begin_batch equal to a document's first token is not repeated", () => {
  const out = pack([[9, 1, 2, 3, 4, 5, 6]], { beginBatch: 9, beginSequence: null, separator: null }, 4);
  assertEquals(out.rows, [[9, 1, 2, 3], [9, 4, 5, 6]]);
});

Deno.test("pack: max_tokens caps positions exactly and ignores later documents", () => {
  const p = new SequencePacker(4, { beginBatch: 9, beginSequence: null, separator: null }, 6);
  p.add([1, 2, 3, 4, 5, 6, 7], null, 0, 0);
  assertEquals(p.full, true);
  p.add([8, 8], null, 1, 0);
  const out = p.finish(PAD);
  assertEquals([...out.tokens], [9, 1, 2, 3, 9, 4, PAD, PAD]);
  assertEquals(out.nTokens, 6);
  assertEquals(out.tag[1], NO_TAG);
});

Deno.test("pack: context_size below 2 is refused", () => {
  assertThrows(() => new SequencePacker(1, NONE));
});

Deno.test("shuffle: seeded permutation is a permutation, reproducible, seed-dependent", () => {
  const a = permutation(1000, 3), b = permutation(1000, 3), c = permutation(1000, 4);
  assertEquals([...a], [...b]);
  assertEquals([...a].sort((x, y) => x - y), Array.from({ length: 1000 }, (_, i) => i));
  assertEquals([...a].some((v, i) => v !== c[i]), true);
  assertEquals([...a].filter((v, i) => v === i).length < 10, true);
});

Deno.test("shuffle: sequences move with their metadata; the padded last sequence stays last", () => {
  const docs = Array.from({ length: 9 }, (_, d) => Array.from({ length: 3 + d }, (_, i) => 100 * d + i + 1));
  const out = pack(docs, NONE, 5);
  const sh = shuffleSequences(out, 5, 1);
  const C = 5, nFull = Math.floor(out.nTokens / C);
  const key = (t: Uint32Array, d: Uint32Array, s: number) =>
    JSON.stringify([[...t.subarray(s * C, s * C + C)], [...d.subarray(s * C, s * C + C)]]);
  const before = Array.from({ length: nFull }, (_, s) => key(out.tokens, out.doc, s)).sort();
  const after = Array.from({ length: nFull }, (_, s) => key(sh.tokens, sh.doc, s)).sort();
  assertEquals(after, before);
  assertEquals(key(sh.tokens, sh.doc, out.nSeq - 1), key(out.tokens, out.doc, out.nSeq - 1));
  assertEquals([...sh.tokens.subarray(0, nFull * C)].some((v, i) => v !== out.tokens[i]), true);
  // a token's tag still follows it (tag = 10 x id here)
  for (let i = 0; i < out.nTokens; i++) assertEquals(sh.tag[i], (sh.tokens[i] * 10) & 0xffff);
});
