/**
 * `--executor slurm` against a real single-node SLURM cluster (tests/fixtures/slurm.ts): a 2×2 sweep as jobs
 * with dependencies gives the local executor's SAEs bit for bit; `scancel` of a training job is reported with
 * its log, and the rerun resumes from the job's checkpoint to the uninterrupted weights; a 2-shard extraction as
 * two part jobs and a merge job has the content hash of the unsharded one.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { join } from "node:path";
import { cli, pipeline, tinySetup } from "../fixtures/tiny_pipeline.ts";
import { jobIds, slurmUnavailable } from "../fixtures/slurm.ts";
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

Deno.test({
  name: "slurm: scancel mid-train is reported with the job's log; the rerun resumes from the checkpoint",
  ignore,
  async fn() {
    const train = { training_tokens: 20480, checkpoint_every: 4, log_every: 4 };
    const clean = await tinySetup(train);
    assertEquals((await pipeline(["run", "--until", "train"], clean)).code, 0);
    const cleanLock = await readLockFile(clean.store);
    const cleanWeights = await Deno.readFile(
      join(clean.store, cleanLock!.stages.train.path, "sae_weights.safetensors"),
    );

    const s = await tinySetup(train);
    const args = ["run", "-A", cli, "run", "--executor", "slurm", "--until", "train"];
    const child = new Deno.Command(Deno.execPath(), {
      args: [...args, "--config", s.cfgPath, "--store", s.store],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    const output = child.output();
    // wait for a checkpoint of the train job, then cancel that job as a cluster user would
    const t0 = Date.now();
    let found = false;
    while (!found && Date.now() - t0 < 120000) {
      await new Promise((r) => setTimeout(r, 100));
      try {
        for (const e of Deno.readDirSync(join(s.store, "scratch"))) {
          for (const f of Deno.readDirSync(join(s.store, "scratch", e.name))) {
            if (f.name.includes("checkpoint")) found = true;
          }
        }
      } catch { /* not created yet */ }
    }
    assert(found, "no checkpoint appeared");
    const ids = await jobIds("sae-train");
    assertEquals(ids.length, 1);
    assertEquals((await new Deno.Command("scancel", { args: ids }).output()).code, 0);
    const out = await output;
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 1, text);
    assertMatch(text, new RegExp(`✗ job ${ids[0]} train: CANCELLED.*; log \\S+\\.log, last lines:\\n`));

    const rerun = await pipeline(["run", "--executor", "slurm", "--until", "train"], s);
    assertEquals(rerun.code, 0, rerun.text);
    assertMatch(rerun.text, /\[\d+ train\] .*resuming from the checkpoint at step [1-9]\d*/);
    const lock = await readLockFile(s.store);
    assertEquals(await Deno.readFile(join(s.store, lock!.stages.train.path, "sae_weights.safetensors")), cleanWeights);
  },
});

Deno.test({
  name: "slurm: a 2-shard extraction runs as two part jobs and a merge, with the unsharded content hash",
  ignore,
  async fn() {
    const local = await tinySetup();
    const one = await pipeline(["run", "--until", "extract"], local);
    assertEquals(one.code, 0, one.text);
    const slurm = { ...local, store: join(local.dir, "slurm_store") };
    const two = await pipeline(
      ["run", "--executor", "slurm", "--until", "extract", "--set", "extract.shards=2"],
      slurm,
    );
    assertEquals(two.code, 0, two.text);
    assertMatch(two.text, /▶ job (\d+) extract part 1\/2: submitted.*\n▶ job (\d+) extract part 2\/2: submitted/);
    assertMatch(two.text, /▶ job \d+ extract: submitted \(after \d+, \d+, \d+, \d+\)/);
    const a = await readLockFile(local.store), b = await readLockFile(slurm.store);
    assert(a!.stages.extract.key !== b!.stages.extract.key);
    assertEquals(b!.stages.extract.output_hash, a!.stages.extract.output_hash);
  },
});
