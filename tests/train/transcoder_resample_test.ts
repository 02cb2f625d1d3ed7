/**
 * Dead-latent resampling of a transcoder (d_in ≠ d_out): each re-initialised latent's decoder row follows the
 * direction of a target row from b_dec, (y_r − b_dec)/‖y_r − b_dec‖, and its encoder column that same row's
 * input, 0.2 × (alive mean encoder norm) × x_r/‖x_r‖; Adam state and per-latent values reset, the rest untouched.
 */
import { assert, assertEquals } from "../assert.ts";
import { getDevice } from "../../kernels/runtime/device.ts";
import { GpuTrainer } from "../../stages/train/trainer.ts";
import { initTranscoder } from "../../stages/train/transcoder_setup.ts";
import { Rng } from "../../stages/train/rng.ts";
import { trainerConfig } from "./trainer_setup.ts";

const norm = (a: ArrayLike<number>) => Math.sqrt(Array.from(a).reduce((s, v) => s + v * v, 0));
const unit = (v: Float64Array) => v.map((e) => e / norm(v));

// standard: the dense path; topk: the sparse path's transcoder
for (const [arch, skip] of [["standard", false], ["standard", true], ["topk", false], ["topk", true]] as const) {
  Deno.test(`${arch} transcoder${skip ? " (W_skip)" : ""}: resample() re-initialises dead latents toward paired (x, y) rows`, async () => {
    const device = await getDevice();
    const D = 24, O = 40, S = 150, B = 16;
    const rng = new Rng(11, 3);
    const dims = { d_in: D, d_sae: S, d_out: O, seed: 5, decoderNorm: 0.1, initThreshold: 0.1 };
    const init = initTranscoder(dims, new Float32Array(O).map(() => 0.1 * rng.normal()), skip);
    for (let i = 0; i < 30; i++) init.b_enc[i] = -1e3; // never fire
    const cfg = trainerConfig(arch, { d_in: D, d_sae: S, k: 4, batch: B }, {
      deadWindow: 1,
      normalizeDecoder: false,
      auxK: 0,
      d_out: O,
      skip,
      resampling: true,
    });
    const t = await GpuTrainer.create(device, cfg, init);
    const x = new Float32Array(B * D).map(() => rng.normal());
    const y = new Float32Array(B * O).map(() => rng.normal());
    const h = { lr: 1e-3, t: 1, sparsityCoef: 0.1, auxCoef: 0 };
    t.step(x, h, y);
    t.step(x, { ...h, t: 2 }, y);
    const before = await t.snapshot();
    const dead = [...(before.since as Uint32Array).keys()].filter((i) => before.since[i] >= 1);
    assert(dead.length >= 30 && dead.length < S, `${dead.length} dead`);
    const n = await t.resample(42, 2);
    assertEquals(n, Math.min(dead.length, B));
    const after = await t.snapshot();
    t.destroy();
    const picked = new Set(dead.slice(0, n));
    const col = (W: ArrayLike<number>, i: number) => Float64Array.from({ length: D }, (_, d) => W[d * S + i]);
    const row = (W: ArrayLike<number>, i: number) => Float64Array.from({ length: O }, (_, o) => W[i * O + o]);
    const alive = [...Array(S).keys()].filter((i) => before.since[i] < 1);
    const encNorm = alive.reduce((s, i) => s + norm(col(before.W_enc, i)), 0) / alive.length;
    const decNorm = alive.reduce((s, i) => s + norm(row(before.W_dec, i)), 0) / alive.length;
    const ys = Array.from(
      { length: B },
      (_, r) => unit(Float64Array.from({ length: O }, (_, o) => y[r * O + o] - before.b_dec[o])),
    );
    const xs = Array.from({ length: B }, (_, r) => unit(Float64Array.from({ length: D }, (_, d) => x[r * D + d])));
    const used = new Set<number>();
    for (let i = 0; i < S; i++) {
      const wd = row(after.W_dec, i), we = col(after.W_enc, i);
      if (!picked.has(i)) {
        assertEquals(Array.from(wd), Array.from(row(before.W_dec, i)), `latent ${i} W_dec untouched`);
        assertEquals(Array.from(we), Array.from(col(before.W_enc, i)), `latent ${i} W_enc untouched`);
        continue;
      }
      assert(
        Math.abs(norm(wd) - decNorm) < 1e-5 * decNorm + 1e-7,
        `latent ${i}: decoder norm ${norm(wd)} vs ${decNorm}`,
      );
      const cos = ys.map((u) => u.reduce((s, v, o) => s + v * wd[o], 0) / norm(wd));
      const r = cos.indexOf(Math.max(...cos));
      assert(cos[r] > 1 - 1e-5, `latent ${i}: decoder row is no target row's direction (cos ${cos[r]})`);
      assert(!used.has(r), `row ${r} drawn twice`);
      used.add(r);
      for (let d = 0; d < D; d++) {
        assert(Math.abs(we[d] - 0.2 * encNorm * xs[r][d]) < 1e-5, `latent ${i} W_enc[${d}]: not row ${r}'s input`);
      }
      for (const name of ["b_enc", "m_b_enc", "v_b_enc"]) assertEquals(after[name][i], 0, `latent ${i}: ${name}`);
      assertEquals(norm(row(after.m_W_dec, i)) + norm(col(after.v_W_enc, i)), 0, `latent ${i}: moments`);
      assertEquals(after.since[i], 0);
    }
    if (skip) assertEquals(Array.from(after.W_skip), Array.from(before.W_skip), "W_skip untouched");
  });
}
