/**
 * What still reads whole W_enc / W_dec buffers (matryoshka's prefix decode, tied weights, resampling) refuses a
 * split slab plan with one line naming the setting and the size, before allocating anything; the same configs with
 * one slab build and step.
 */
import { assert, assertEquals, assertRejects } from "../assert.ts";
import { getDevice } from "../../kernels/runtime/device.ts";
import { GpuTrainer, type TrainerConfig } from "../../stages/train/trainer.ts";
import { initParams } from "../../stages/train/init.ts";
import { Rng } from "../../stages/train/rng.ts";
import { planSlabs } from "../../stages/train/slab_plan.ts";
import { trainerConfig } from "./trainer_setup.ts";

const D = 32, S = 98, B = 8, LIMIT = 1024 * 4; // several latent slabs (tests/train/slab_split_test.ts)

const CASES: { what: string; cfg: Partial<TrainerConfig>; arch: TrainerConfig["architecture"] }[] = [
  { what: "matryoshka_batchtopk", arch: "matryoshka_batchtopk", cfg: { matryoshkaWidths: [16, 48] } },
  { what: "tied_weights", arch: "topk", cfg: { tiedWeights: true } },
  { what: "resample_every", arch: "batchtopk", cfg: { resampling: true } },
];

for (const c of CASES) {
  Deno.test(`${c.what}: a split slab plan is refused with one line; one slab trains`, async () => {
    const device = await getDevice();
    const init = initParams({ d_in: D, d_sae: S, seed: 2, decoderNorm: 1, initThreshold: 0.3 }, new Float32Array(D));
    const cfg = trainerConfig(c.arch, { d_in: D, d_sae: S, k: 5, batch: B }, { auxK: 4, batchTopkCap: 2, ...c.cfg });
    const err = await assertRejects(() => GpuTrainer.create(device, { ...cfg, bindingLimit: LIMIT }, init));
    const msg = (err as Error).message;
    const m = msg.match(
      new RegExp(
        `^train: ${c.what} needs d_sae in one latent slab, but d_in ${D} × d_sae ${S} splits into (\\d+) slabs \\(one storage binding\\); lower d_sae \\(or expansion_factor\\) or turn ${c.what} off$`,
      ),
    );
    assert(m && Number(m[1]) > 1, msg);
    assert(!msg.includes("\n"), "one line");
    const t = await GpuTrainer.create(device, cfg, init);
    try {
      assertEquals(t.plan.slabs.length, 1);
      const rng = new Rng(5, 1);
      t.step(new Float32Array(B * D).map(() => rng.normal()), { lr: 1e-3, t: 1, sparsityCoef: 1, auxCoef: 0.5 });
      const { loss } = await t.metrics();
      assert(Number.isFinite(loss) && loss > 0, `loss ${loss}`);
    } finally {
      t.destroy();
    }
  });
}

Deno.test("a d_sae that fits one binding is one slab even when not a multiple of 4", () => {
  const plan = planSlabs({ d_in: D, d_sae: S, batch: B, cap: 5, auxCap: 4, sparse: true }, 128 * 2 ** 20);
  assertEquals(plan.slabs, [{ start: 0, size: S }]);
});

Deno.test("resample(): a split trainer refuses with the same line (no resampler on slab parts)", async () => {
  const device = await getDevice();
  const init = initParams({ d_in: D, d_sae: S, seed: 2, decoderNorm: 1, initThreshold: 0.3 }, new Float32Array(D));
  const cfg = trainerConfig("topk", { d_in: D, d_sae: S, k: 5, batch: B }, { bindingLimit: LIMIT });
  const t = await GpuTrainer.create(device, cfg, init);
  try {
    assert(t.plan.slabs.length > 1, `${t.plan.slabs.length} slabs`);
    const err = await assertRejects(() => t.resample(1, 1));
    assert((err as Error).message.startsWith("train: resample_every needs d_sae in one latent slab"));
  } finally {
    t.destroy();
  }
});
