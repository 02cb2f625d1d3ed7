/**
 * `--executor slurm` against a real single-node SLURM cluster (tests/fixtures/slurm.ts): a 2×2 sweep as jobs with
 * dependencies gives the local executor's SAEs bit for bit. (The SLURM tests are three files so that they overlap:
 * each waits mostly on job scheduling.)
 */
import { assertEquals, assertMatch } from "../assert.ts";
import { join } from "node:path";
import { pipeline, tinySetup } from "../fixtures/tiny_pipeline.ts";
import { slurmUnavailable } from "../fixtures/slurm.ts";
import { readLockFile } from "../../pipeline/records.ts";

const ignore = slurmUnavailable !== null;

/** sha256 of each point's SAE weights and its eval metrics, by point label. */
async function saesOf(store: string) {
  const lock = await readLockFile(store);
  const out: Record<string, { weights: string; ev: number; l0: number }> = {};
  for (const [label, stages] of Object.entries(lock!.branches!)) {
    const w = await Deno.readFile(join(store, stages.train.path, "sae_weights.safetensors"));
    const ev = JSON.parse(await Deno.readTextFile(join(store, stages.evaluate.path, "eval.json")));
    const hash = Array.from(new Uint8Array(await crypto.subtle.digest("SHA-256", w)))
      .map((b) => b.toString(16).padStart(2, "0")).join("");
    out[label] = { weights: hash, ev: ev.explained_variance, l0: ev.l0 };
  }
  return out;
}

Deno.test({
  name: "slurm: a 2×2 sweep runs as dependent jobs and gives the local executor's SAEs",
  ignore,
  async fn() {
    const sweep = ["--sweep", "train.k=4,8", "--sweep", "train.lr=0.004,0.002"];
    const local = await tinySetup();
    const l = await pipeline(["run", ...sweep], local);
    assertEquals(l.code, 0, l.text);
    const slurm = { ...local, store: join(local.dir, "slurm_store") };
    const s = await pipeline(["run", "--executor", "slurm", ...sweep], slurm);
    assertEquals(s.code, 0, s.text);
    // 3 shared upstream runs + 4 points × (train, evaluate, export)
    assertEquals(s.text.match(/▶ job \d+ .*: submitted/g)?.length, 15, s.text);
    assertMatch(s.text, /▶ job \d+ train \[train\.k=8,train\.lr=0\.002\]: submitted \(after \d+\)/);
    assertEquals(s.text.match(/✓ job \d+ .*: completed/g)?.length, 15);
    assertMatch(s.text, /\[\d+ train \[train\.k=4,train\.lr=0\.004\]\] ✓ train: done in/);
    assertEquals(await saesOf(slurm.store), await saesOf(local.store));
  },
});
