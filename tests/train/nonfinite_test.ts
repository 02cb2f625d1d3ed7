/**
 * Training stops on a non-finite loss or parameters with a one-line error, writes no weights, and the
 * checkpoint left in the scratch dir is the last good one (finite, from before the failing step).
 */
import { join } from "node:path";
import { assert, assertMatch, assertRejects } from "../assert.ts";
import { writeSynthetic } from "./synthetic.ts";
import { trainSae } from "../../stages/train/train_loop.ts";
import { resolveParams } from "../../pipeline/params.ts";
import { type TrainParams, trainParams } from "../../stages/train/params.ts";
import { readActivationMeta } from "../../stages/io/activations.ts";
import { readSafetensors } from "../../stages/io/safetensors.ts";

const D = 16;
// The poisoned row (the last) lies beyond the first 16384 rows b_dec init reads: only training sees it.
const N = 20000;

const params = (over: Record<string, unknown>) =>
  resolveParams("train", trainParams, {
    architecture: "topk",
    d_sae: 64,
    k: 3,
    batch_size: 256,
    lr: 0.005,
    training_tokens: 2 * N,
    log_every: 1,
    checkpoint_every: 4,
    validation_tokens: 256,
    shuffle_buffer_tokens: 512,
    ...over,
  }) as unknown as TrainParams;

async function run(p: TrainParams, poison: boolean) {
  const syn = await writeSynthetic({ dIn: D, nDirs: 32, nTrain: N, nHeld: 512, l0: 3, noise: 0.01, seed: 5 });
  const out = await Deno.makeTempDir();
  const scratch = await Deno.makeTempDir();
  try {
    if (poison) {
      const shard = join(syn.dir, (await readActivationMeta(syn.dir)).splits.train.shards.at(-1)!.acts);
      const bytes = await Deno.readFile(shard);
      new Float32Array(bytes.buffer).fill(NaN, bytes.length / 4 - D); // the last row
      await Deno.writeFile(shard, bytes);
    }
    const err = await assertRejects(() =>
      trainSae({ params: p, extractDir: syn.dir, outDir: out, scratchDir: scratch })
    );
    const weights = await Deno.stat(join(out, "sae_weights.safetensors")).then(() => true, () => false);
    const ck = await readSafetensors(join(scratch, "checkpoint.safetensors")).catch(() => null);
    return { message: err.message, weights, ck };
  } finally {
    for (const d of [syn.dir, out, scratch]) await Deno.remove(d, { recursive: true });
  }
}

function assertFinite(ck: NonNullable<Awaited<ReturnType<typeof run>>["ck"]>): void {
  for (const [name, t] of Object.entries(ck.tensors)) {
    if (t.dtype === "F32") assert((t.data as Float32Array).every(Number.isFinite), `checkpoint ${name} not finite`);
  }
}

Deno.test("train: a NaN row stops training with one line and keeps the last good checkpoint", async () => {
  const { message, weights, ck } = await run(params({}), true);
  assert(!message.includes("\n"), `multi-line error: ${message}`);
  assertMatch(message, /^train: loss became NaN at step \d+; stopped \(.*\); lower lr or set clip_grad_norm$/);
  const failed = Number(message.match(/at step (\d+)/)![1]);
  assert(failed > 4, `failed at step ${failed}, before any checkpoint`);
  assert(!weights, "weights written after a NaN");
  assert(ck, "no checkpoint kept");
  assert(Number(ck.metadata.step) === Math.floor((failed - 1) / 4) * 4, `checkpoint step ${ck.metadata.step}`);
  assertFinite(ck);
});

Deno.test("train: an absurd lr stops at the first checkpoint, whose parameters overflowed, and saves none", async () => {
  // Step 1's loss is finite (it predates the update); the update overflows the parameters.
  const p = params({ lr: 1e38, lr_warmup_steps: 0, checkpoint_every: 1, log_every: 8 });
  const { message, weights, ck } = await run(p, false);
  assert(!message.includes("\n"), `multi-line error: ${message}`);
  assertMatch(message, /^train: (W_enc|W_dec|b_enc|b_dec) became non-finite at step 1; stopped/);
  assert(!weights, "weights written after divergence");
  assert(ck === null, "a non-finite checkpoint was saved");
});
