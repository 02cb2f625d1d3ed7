/**
 * `--executor slurm` on a real single-node cluster: `scancel` of a training job is reported with its log, and the
 * rerun resumes from the job's checkpoint to the uninterrupted weights; Ctrl-C of the CLI cancels every job it submitted.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { join } from "node:path";
import { pipeline, spawnPipeline, tinySetup } from "../fixtures/tiny_pipeline.ts";
import { jobIds, slurmUnavailable } from "../fixtures/slurm.ts";
import { readLockFile } from "../../pipeline/records.ts";

const ignore = slurmUnavailable !== null;

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
    const child = spawnPipeline(["run", "--executor", "slurm", "--until", "train"], s);
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
    const ids = await jobIds("sae-train", s.store);
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
  name: "slurm: Ctrl-C cancels every queued and running job of the run",
  ignore,
  async fn() {
    const s = await tinySetup({ training_tokens: 40960, checkpoint_every: 4, log_every: 4 });
    const child = spawnPipeline(["run", "--executor", "slurm"], s);
    const output = child.output();
    // wait until the train job runs (evaluate and export are queued behind it)
    const t0 = Date.now();
    let trainRunning = false;
    while (!trainRunning && Date.now() - t0 < 120000) {
      await new Promise((r) => setTimeout(r, 200));
      trainRunning = (await jobIds("sae-train", s.store, "R")).length > 0;
    }
    assert(trainRunning, "the train job never ran");
    const queued = (await Promise.all(["sae-train", "sae-evaluate", "sae-export"].map((n) => jobIds(n, s.store))))
      .flat();
    assertEquals(queued.length, 3);
    child.kill("SIGINT");
    const out = await output;
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assertEquals(out.code, 130, text);
    // every job not seen finished is cancelled (one that just finished may be among them: scancel ignores it)
    const cancelled = /interrupted: scancel ([\d ]+)\n/.exec(text)?.[1].split(" ") ?? [];
    for (const id of queued) assert(cancelled.includes(id), `${id} not cancelled: ${text}`);
    for (const name of ["sae-train", "sae-evaluate", "sae-export"]) {
      for (let i = 0; i < 50 && (await jobIds(name, s.store)).length; i++) await new Promise((r) => setTimeout(r, 200));
      assertEquals(await jobIds(name, s.store), [], `${name} jobs still queued`);
    }
  },
});
