import { assertEquals } from "../assert.ts";
import { resolveParams } from "../../pipeline/params.ts";
import { sparsityCoefficient, type TrainParams, trainParams, TUNED_L1 } from "../../stages/train/params.ts";

const resolved = (over: Record<string, unknown>) => resolveParams("train", trainParams, over) as unknown as TrainParams;

Deno.test("sparsityCoefficient: l1_coefficient null is the tuned value per architecture, a set value wins", () => {
  assertEquals(resolved({}).l1_coefficient, null);
  assertEquals(sparsityCoefficient(resolved({ architecture: "standard" })), TUNED_L1.standard);
  assertEquals(sparsityCoefficient(resolved({ architecture: "gated" })), TUNED_L1.gated);
  assertEquals(sparsityCoefficient(resolved({ architecture: "standard", l1_coefficient: 7 })), 7);
  assertEquals(sparsityCoefficient(resolved({ architecture: "gated", l1_coefficient: 0 })), 0);
  // jumprelu's penalty is l0_coefficient; the TopK family has none (k sets sparsity)
  assertEquals(
    sparsityCoefficient(resolved({ architecture: "jumprelu", l1_coefficient: 7, l0_coefficient: 0.3 })),
    0.3,
  );
  for (const architecture of ["topk", "batchtopk", "matryoshka_batchtopk"]) {
    assertEquals(sparsityCoefficient(resolved({ architecture, l1_coefficient: 7 })), 0, architecture);
  }
});
