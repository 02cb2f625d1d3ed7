/** The dead-latent window: kept when shorter than the run, else half the run in whole batches, said once. */
import { assertEquals, assertMatch } from "../assert.ts";
import { effectiveDeadWindow } from "../../stages/train/dead_window.ts";

Deno.test("dead window: shorter than the run is kept, silently", () => {
  const logs: string[] = [];
  assertEquals(effectiveDeadWindow(500, 2048, 256, (m) => logs.push(m)), 500);
  assertEquals(logs, []);
});

Deno.test("dead window: not shorter than the run -> half the run in whole batches, logged", () => {
  const logs: string[] = [];
  assertEquals(effectiveDeadWindow(200000, 2048, 256, (m) => logs.push(m)), 1024);
  assertEquals(effectiveDeadWindow(2048, 2048, 256, (m) => logs.push(m)), 1024);
  assertEquals(effectiveDeadWindow(200000, 2560, 512, (m) => logs.push(m)), 1024); // 1280 -> whole batches
  assertEquals(effectiveDeadWindow(200000, 300, 256, (m) => logs.push(m)), 256); // at least one batch
  assertEquals(logs.length, 4);
  assertMatch(logs[0], /dead_feature_window 200000 tokens is not shorter than the run \(2048 tokens\); .* 1024 tokens/);
});
