import { assertAlmostEquals, assertEquals } from "../assert.ts";
import { LabelCooccurrence } from "../../stages/evaluate/tag_association.ts";
import { codesFromDense } from "../../stages/evaluate/sparse_codes.ts";

Deno.test("label association: precision, recall and F1 pick the best label", () => {
  // 6 tokens labelled [A, A, B, B, B, none]; latent 0 fires on tokens 0, 1, 2; latent 1 on 2, 3, 4, 5; latent 2 never.
  const labels = [0, 0, 1, 1, 1, 9];
  const dense = [
    1,
    0,
    0,
    2,
    0,
    0,
    1,
    1,
    0,
    0,
    3,
    0,
    0,
    1,
    0,
    0,
    1,
    0,
  ];
  const acc = new LabelCooccurrence(3, 2, 9);
  acc.add(codesFromDense(dense, 6, 3), labels);
  const r = acc.result();
  // latent 0: A → P 2/3, R 2/2, F1 0.8; B → P 1/3, R 1/3, F1 1/3. Best A.
  assertEquals(r.label[0], 0);
  assertAlmostEquals(r.precision[0], 2 / 3, 1e-12);
  assertAlmostEquals(r.recall[0], 1, 1e-12);
  assertAlmostEquals(r.f1[0], 0.8, 1e-12);
  // latent 1: B → P 3/4, R 3/3, F1 6/7.
  assertEquals(r.label[1], 1);
  assertAlmostEquals(r.precision[1], 0.75, 1e-12);
  assertAlmostEquals(r.recall[1], 1, 1e-12);
  assertAlmostEquals(r.f1[1], 6 / 7, 1e-12);
  assertEquals(r.label[2], -1);
  assertEquals(Array.from(acc.labelTotals), [2, 3]);
});
