/** `--set` values for json-typed keys: JSON, or a bare word taken as a string; anything else names the rule. */
import { assertEquals, assertThrows } from "../assert.ts";
import { type ParamSpec, parseSetValue } from "../../pipeline/params.ts";

const json = { type: "json", default: null, doc: "" } as ParamSpec;
const key = "pretokenize.begin_batch_token";

Deno.test("--set json key: a bare word is a string, JSON is JSON", () => {
  assertEquals(parseSetValue(key, json, "eos"), "eos");
  assertEquals(parseSetValue(key, json, '"eos"'), "eos");
  assertEquals(parseSetValue(key, json, "50256"), 50256);
  assertEquals(parseSetValue(key, json, "null"), null);
  assertEquals(parseSetValue(key, json, "true"), true);
  assertEquals(parseSetValue("extract.seqpos_slice", json, "[1,null]"), [1, null]);
});

Deno.test("--set json key: not JSON and not a bare word -> one line naming the rule and the quoting", () => {
  for (const raw of ["{oops", "two words", "[1,"]) {
    const e = assertThrows(() => parseSetValue(key, json, raw)) as Error;
    assertEquals(
      e.message,
      `--set ${key}=${raw}: expected JSON or a bare word (quote other strings as JSON: --set '${key}="${raw}"')`,
    );
  }
});
