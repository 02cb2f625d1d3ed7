import { assert, assertEquals } from "../assert.ts";
import { shortReachNotice, thresholdReach } from "../../stages/train/threshold_reach.ts";

Deno.test("thresholdReach sums the lr schedule: hand-computed cases", () => {
  // constant 0.01 for 100 steps, no warmup: 1.0
  assert(Math.abs(thresholdReach(100, 0.01, 0, "constant") - 1) < 1e-12);
  // warmup 4 of 4 steps, constant: 0.01·(1 + 2 + 3 + 4)/4 = 0.025
  assert(Math.abs(thresholdReach(4, 0.01, 4, "constant") - 0.025) < 1e-12);
  // linear decay, no warmup, 4 steps: 0.01·(1 + 3/4 + 2/4 + 1/4) = 0.025
  assert(Math.abs(thresholdReach(4, 0.01, 0, "linear") - 0.025) < 1e-12);
  // cosine over 3 steps, no warmup: ½(1 + cos 0) + ½(1 + cos π/3) + ½(1 + cos 2π/3) = 1 + 0.75 + 0.25
  assert(Math.abs(thresholdReach(3, 1, 0, "cosine") - 2) < 1e-12);
});

Deno.test("shortReachNotice: one line when thresholds can move less than 10x, none otherwise", () => {
  // the default run: 720 steps at 0.004, 10 warmup, cosine → Σ lr ≈ 1.44, ×4.2
  const reach = thresholdReach(720, 0.004, 10, "cosine");
  assert(Math.abs(reach - 1.44) < 0.01, `reach ${reach}`);
  const line = shortReachNotice(reach, 0.1)!;
  assert(line.includes("×4.2") && line.includes("0.024–0.42"), line);
  assertEquals(line.split("\n").length, 1);
  assertEquals(shortReachNotice(Math.log(10), 0.1), undefined);
});
