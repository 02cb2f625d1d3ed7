/**
 * ParamsOf derives a stage's params type from its schema. These checks run at type-check time: each
 * `@ts-expect-error` line must be an error, so a ParamsOf that degraded to `unknown` or `any` fails `deno test`.
 */
import { assertEquals } from "../assert.ts";
import type { ParamSchema, ParamsOf } from "../../pipeline/params.ts";
import type { TrainParams } from "../../stages/train/params.ts";

const schema = {
  n: { type: "int", default: 1, doc: "" },
  name: { type: "string", default: null, nullable: true, doc: "" },
  mode: { type: "enum", values: ["a", "b"], default: "a", doc: "" },
  on: { type: "boolean", default: true, doc: "" },
  tags: { type: "string[]", default: [], doc: "" },
} as const satisfies ParamSchema;
type P = ParamsOf<typeof schema>;

Deno.test("ParamsOf: value types from the spec types, enums from their values, null for optional keys", () => {
  const ok: P = { n: 3, name: null, mode: "b", on: false, tags: ["x"] };
  // @ts-expect-error an enum key takes only its values
  const badEnum: P["mode"] = "c";
  // @ts-expect-error a non-nullable key takes no null
  const badNull: P["n"] = null;
  // @ts-expect-error an int key is a number
  const badType: P["on"] = 1;
  // @ts-expect-error the real train schema: architecture is one of its four values
  const badArch: TrainParams["architecture"] = "vanilla";
  const dSae: TrainParams["d_sae"] = null; // nullable in the schema
  assertEquals([ok.mode, badEnum, badNull, badType, badArch, dSae], ["b", "c", null, 1, "vanilla", null]);
});
