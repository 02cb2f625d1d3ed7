/** extract's token filter: special-token exclusion and seqpos_slice on a hand-made case. */
import { assertEquals, assertMatch, assertThrows } from "../assert.ts";
import { checkExclude, checkSlice, keepRows, tokenFilter } from "../../stages/extract/token_filter.ts";

const C = 6, d = 2;
// one sequence: ids 9 (bos), 5, 7, 9, 5, 0 (pad; only 5 real tokens)
const tokens = Uint32Array.of(9, 5, 7, 9, 5, 0);
const acts = Float32Array.from({ length: C * d }, (_, i) => i + 1);

function kept(exclude: boolean | number[] | null, slice: (number | null)[] | null, causal = true) {
  const f = tokenFilter(exclude, slice, causal, C, () => [9]);
  const out = new Float32Array(C * d), rows = new Uint32Array(C);
  const n = keepRows(f, tokens, 0, C, 5, d, acts, out, rows);
  return { rows: [...rows.subarray(0, n)], acts: [...out.subarray(0, n * d)] };
}

Deno.test("token filter: default excludes specials for causal LMs only", () => {
  assertEquals(kept(null, null), { rows: [1, 2, 4], acts: [3, 4, 5, 6, 9, 10] });
  assertEquals(kept(null, null, false).rows, [0, 1, 2, 3, 4]);
  assertEquals(kept(false, null).rows, [0, 1, 2, 3, 4]);
  assertEquals(kept([5], null).rows, [0, 2, 3]);
});

Deno.test("token filter: seqpos_slice as a Python slice (open ends, negatives), with exclusion", () => {
  assertEquals(kept(false, [1, null]).rows, [1, 2, 3, 4]);
  assertEquals(kept(false, [null, -3]).rows, [0, 1, 2]);
  assertEquals(kept(false, [-2]).rows, [4]); // position 5 is padding
  assertEquals(kept(true, [2, 5]).rows, [2, 4]);
  assertMatch(
    assertThrows(() => tokenFilter(false, [4, 2], true, C, () => [])).message,
    new RegExp("keeps no position"),
  );
});

Deno.test("token filter: config checks name the key and the expected form", () => {
  assertMatch(
    assertThrows(() => checkExclude("yes")).message,
    new RegExp('config key "extract.exclude_special_tokens"'),
  );
  assertMatch(assertThrows(() => checkSlice([1, 2, 3])).message, new RegExp('config key "extract.seqpos_slice"'));
  assertMatch(assertThrows(() => checkSlice(["a"])).message, new RegExp("as a Python slice"));
  checkExclude([1, 2]);
  checkSlice([null, 8]);
});
