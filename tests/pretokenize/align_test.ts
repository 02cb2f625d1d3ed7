import { assertEquals } from "../assert.ts";
import { tokenStarts, wordOfTokens } from "../../stages/pretokenize/align.ts";
import { matchingForm, type PieceStyle, pieceSurface } from "../../stages/pretokenize/surface.ts";

/** Starts of `pieces` (written in `style`) in `text`, each piece its own vocabulary entry. */
function starts(text: string, pieces: string[], style: PieceStyle): number[] {
  const surfaces = pieces.map((p) => (p === "<unk>" ? "\u0000unk" : pieceSurface(p, style)));
  return [...tokenStarts(text, pieces.map((_, i) => i), surfaces)];
}

Deno.test("surface: markers of each tokenizer family are removed, text normalised", () => {
  assertEquals(pieceSurface("▁The", "metaspace"), "the");
  assertEquals(pieceSurface("▁", "metaspace"), "");
  assertEquals(pieceSurface("ĠJury", "bytelevel"), "jury");
  assertEquals(pieceSurface("Ã©", "bytelevel"), "é"); // UTF-8 bytes of é in GPT-2's byte alphabet
  assertEquals(pieceSurface("##ing", "wordpiece"), "ing");
  assertEquals(pieceSurface("ﬁ", "plain"), "fi"); // NFKC
  const { norm, origin } = matchingForm("Ａb\tﬁ");
  assertEquals(norm, "ab fi");
  assertEquals([...origin], [0, 1, 2, 3, 3]);
});

Deno.test("align: metaspace pieces, lone ▁ belongs to the next word, token spanning words takes the first", () => {
  const text = "The Fulton jury , said";
  //            0   4      11   16 18
  assertEquals(starts(text, ["▁The", "▁Ful", "ton", "▁jury", "▁", ",", "▁said"], "metaspace"), [
    0,
    4,
    7,
    11,
    16,
    16,
    18,
  ]);
  const words = Uint32Array.from([0, 4, 11, 16, 18]);
  const s = tokenStarts(text, [0, 1, 2], ["the", "fulton jury", ","]);
  assertEquals([...s], [0, 4, 16]);
  assertEquals([...wordOfTokens(s, words)], [0, 1, 3]);
});

Deno.test("align: byte-level and wordpiece pieces; an unknown token is skipped and the cursor resyncs", () => {
  assertEquals(starts("Café au lait", ["Caf", "Ã©", "Ġau", "Ġla", "it"], "bytelevel"), [0, 3, 5, 8, 10]);
  assertEquals(starts("unhappily ever", ["un", "##happ", "##ily", "ever"], "wordpiece"), [0, 2, 6, 10]);
  // "☃" is not in the vocabulary: <unk> takes it, then "man" is found again
  assertEquals(starts("snow☃man x", ["▁snow", "<unk>", "man", "▁x"], "metaspace"), [0, 4, 5, 9]);
  // a fused <unk> over several characters: the next piece is found a few characters ahead
  assertEquals(starts("a ☃☃☃ b", ["▁a", "▁", "<unk>", "▁b"], "metaspace"), [0, 2, 2, 6]);
});

Deno.test("align: tokens past the end map to text.length; words map monotonically", () => {
  const s = tokenStarts("ab", [0, 1, 2], ["ab", "", "zz"]);
  assertEquals([...s], [0, 2, 2]);
  assertEquals([...wordOfTokens(Int32Array.from([0, 0, 5, 9, 9, 30]), Uint32Array.from([0, 5, 9]))], [
    0,
    0,
    1,
    2,
    2,
    2,
  ]);
});
