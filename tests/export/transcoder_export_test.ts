/**
 * Transcoders saved and reopened: foldWeights (train_loop.ts) folds the two activation scales in (x·s_in in,
 * y·s_out out: W_enc·s_in, W_dec/s_out, b_dec/s_out, W_skip·s_in/s_out, W_skip transposed to SAELens's
 * [d_out, d_in]); the SAELens folder (buildSaelens) has SAELens's transcoder cfg and tensors; loadSae's
 * encode / forward on raw activations equal the scaled-space transcoder written out here in float64; and a
 * transcoder trained on the GPU, saved and reopened, gives the trainer's own explained variance of y.
 */
import { assert, assertAlmostEquals, assertEquals } from "../assert.ts";
import { getDevice } from "../../kernels/runtime/device.ts";
import { buildSaelens } from "../../stages/export/saelens.ts";
import { parseSae } from "../../stages/export/load.ts";
import { decodeSafetensors, encodeSafetensors } from "../../stages/io/safetensors.ts";
import { foldWeights } from "../../stages/train/train_loop.ts";
import { GpuTrainer, type SaeParams } from "../../stages/train/trainer.ts";
import { initTranscoder, transcoderArchitecture } from "../../stages/train/transcoder_setup.ts";
import { Rng } from "../../stages/train/rng.ts";
import { trainerConfig } from "../train/trainer_setup.ts";

const D = 7, S = 11, O = 5;

function randomParams(rng: Rng, skip: boolean): SaeParams {
  const r = (n: number, s: number) => new Float32Array(n).map(() => s * rng.normal());
  return {
    W_enc: r(D * S, 0.5),
    W_dec: r(S * O, 0.5),
    b_enc: r(S, 0.2),
    b_dec: r(O, 0.3),
    log_threshold: new Float32Array(S).map(() => Math.log(0.05 + 0.2 * rng.next())),
    r_mag: new Float32Array(S),
    b_mag: new Float32Array(S),
    ...(skip ? { W_skip: r(D * O, 0.4) } : {}),
  };
}

/** The scaled-space transcoder on raw rows x [n, D], in float64: z and ŷ_raw = ŷ_scaled / s_out. */
function scaledForward(p: SaeParams, jump: boolean, x: Float32Array, n: number, sIn: number, sOut: number) {
  const z = new Float64Array(n * S), y = new Float64Array(n * O);
  for (let t = 0; t < n; t++) {
    const xs = Array.from({ length: D }, (_, d) => x[t * D + d] * sIn);
    for (let i = 0; i < S; i++) {
      let pre = p.b_enc[i];
      for (let d = 0; d < D; d++) pre += xs[d] * p.W_enc[d * S + i];
      const open = jump ? pre > Math.exp(p.log_threshold[i]) : true;
      z[t * S + i] = open && pre > 0 ? pre : 0;
    }
    for (let o = 0; o < O; o++) {
      let v = p.b_dec[o];
      for (let i = 0; i < S; i++) v += z[t * S + i] * p.W_dec[i * O + o];
      if (p.W_skip) { for (let d = 0; d < D; d++) v += xs[d] * p.W_skip[d * O + o]; }
      y[t * O + o] = v / sOut;
    }
  }
  return { z, y };
}

const trainCfg = (arch: string) => ({
  architecture: arch,
  d_in: D,
  d_sae: S,
  d_out: O,
  hook_name: "blocks.2.ln2.hook_normalized",
  hook_name_out: "blocks.2.hook_mlp_out",
  hook_layer: 2,
  hook_layer_out: 2,
  hook_head_index_out: null,
  apply_b_dec_to_input: false,
  metadata: { training_architecture: arch === "jumprelu_transcoder" ? "jumprelu" : "standard" },
});

for (const [training, skip] of [["standard", false], ["standard", true], ["jumprelu", false]] as const) {
  const arch = transcoderArchitecture(training, skip);
  Deno.test(`${arch}: folded weights in SAELens's layout reopen as the scaled-space transcoder`, () => {
    const rng = new Rng(skip ? 3 : 4, training.length);
    const p = randomParams(rng, skip);
    const sIn = 1.7, sOut = 0.6;
    // foldWeights folds W_enc / W_dec in place: give it copies, p stays the scaled-space reference
    const { tensors } = foldWeights({ ...p, W_enc: p.W_enc.slice(), W_dec: p.W_dec.slice() }, training, sIn, 0, sOut);
    const files = buildSaelens({ trainCfg: trainCfg(arch), weights: tensors, density: null });
    const cfg = JSON.parse(files["cfg.json"]);
    assertEquals(
      [
        cfg.architecture,
        cfg.d_in,
        cfg.d_sae,
        cfg.d_out,
        cfg.hook_name_out,
        cfg.hook_layer_out,
        cfg.hook_head_index_out,
      ],
      [arch, D, S, O, "blocks.2.hook_mlp_out", 2, null],
    );
    assertEquals(cfg.apply_b_dec_to_input, false);
    const file = decodeSafetensors(files["sae_weights.safetensors"]).tensors;
    const shapes = Object.fromEntries(Object.entries(file).map(([k, t]) => [k, t.shape]));
    assertEquals(shapes, {
      W_dec: [S, O],
      W_enc: [D, S],
      b_dec: [O],
      b_enc: [S],
      ...(skip ? { W_skip: [O, D] } : {}),
      ...(training === "jumprelu" ? { threshold: [S] } : {}),
    });
    if (skip) { // SAELens W_skip[o, d] = trainer W_skip[d, o] · s_in / s_out
      const w = file.W_skip.data as Float32Array;
      assertAlmostEquals(w[3 * D + 2], p.W_skip![2 * O + 3] * sIn / sOut, 1e-6);
    }
    const sae = parseSae(cfg, encodeSafetensors(file));
    assertEquals([sae.dIn, sae.dOut, sae.dSae], [D, O, S]);
    const n = 12;
    const x = new Float32Array(n * D).map(() => 2 * rng.normal());
    const ref = scaledForward(p, training === "jumprelu", x, n, sIn, sOut);
    const z = sae.encode(x, n), y = sae.forward(x, n);
    const active = z.filter((v) => v !== 0).length;
    assert(active > 0 && active < n * S, `${active} active latents`);
    for (let j = 0; j < z.length; j++) assertAlmostEquals(z[j], ref.z[j], 1e-5 * (1 + Math.abs(ref.z[j])));
    for (let j = 0; j < y.length; j++) assertAlmostEquals(y[j], ref.y[j], 1e-5 * (1 + Math.abs(ref.y[j])));
    if (skip) { // decode alone leaves the skip path out (SAELens decode vs forward)
      const dec = sae.decode(z, n);
      assert(dec.some((v, j) => Math.abs(v - y[j]) > 1e-3), "decode without W_skip differs from forward");
    }
  });
}

/** 1 − Σ‖y − ŷ‖² / Σ‖y − ȳ‖² over n rows of width w. */
function explainedVariance(y: ArrayLike<number>, yhat: ArrayLike<number>, n: number, w: number): number {
  const mean = new Float64Array(w);
  for (let t = 0; t < n; t++) for (let o = 0; o < w; o++) mean[o] += y[t * w + o] / n;
  let err = 0, tot = 0;
  for (let j = 0; j < n * w; j++) (err += (y[j] - yhat[j]) ** 2), (tot += (y[j] - mean[j % w]) ** 2);
  return 1 - err / tot;
}

for (const [training, skip] of [["standard", true], ["jumprelu", false]] as const) {
  Deno.test(`${transcoderArchitecture(training, skip)} trained on the GPU, saved and reopened: the trainer's EV of y`, async () => {
    const device = await getDevice();
    const rng = new Rng(21, skip ? 1 : 2);
    const Dn = 24, Sn = 96, On = 20, B = 64, sIn = 0.8, sOut = 2.5;
    const A = new Float32Array(Dn * On).map(() => rng.normal() / Math.sqrt(Dn)); // y = ReLU-ish map of x
    const batch = () => {
      const x = new Float32Array(B * Dn).map(() => rng.normal() * 1.5);
      const y = new Float32Array(B * On);
      for (let t = 0; t < B; t++) {
        for (let o = 0; o < On; o++) {
          let v = 0.3;
          for (let d = 0; d < Dn; d++) v += x[t * Dn + d] * A[d * On + o];
          y[t * On + o] = Math.max(0, v) + 0.1 * v;
        }
      }
      return { x, y };
    };
    const scaled = (b: { x: Float32Array; y: Float32Array }) => ({
      x: b.x.map((v) => v * sIn),
      y: b.y.map((v) => v * sOut),
    });
    const dims = { d_in: Dn, d_sae: Sn, d_out: On, seed: 2, decoderNorm: 0.1, initThreshold: 0.05 };
    const cfg = trainerConfig(training, { d_in: Dn, d_sae: Sn, k: 4, batch: B }, {
      normalizeDecoder: false,
      auxK: 0,
      bandwidth: 0.05,
      d_out: On,
      skip,
    });
    const t = await GpuTrainer.create(device, cfg, initTranscoder(dims, new Float32Array(On), skip));
    const h = (s: number) => ({ lr: 0.01, t: s + 1, sparsityCoef: 0.05, auxCoef: 0 });
    for (let s = 0; s < 60; s++) {
      const b = scaled(batch());
      t.step(b.x, h(s), b.y);
    }
    const raw = batch(), held = scaled(raw);
    const m = await t.evaluate(held.x, h(60), held.y);
    const { tensors } = foldWeights(await t.params(), training, sIn, 0, sOut);
    t.destroy();
    const arch = transcoderArchitecture(training, skip);
    const files = buildSaelens({
      trainCfg: { ...trainCfg(arch), d_in: Dn, d_sae: Sn, d_out: On },
      weights: tensors,
      density: null,
    });
    const sae = parseSae(JSON.parse(files["cfg.json"]), files["sae_weights.safetensors"]);
    const ev = explainedVariance(raw.y, sae.forward(raw.x, B), B, On);
    assert(m.explained_variance > 0.3, `trainer EV of y ${m.explained_variance}`);
    assert(Math.abs(ev - m.explained_variance) < 1e-3, `reopened EV ${ev}, trainer ${m.explained_variance}`);
    const l0 = sae.encode(raw.x, B).filter((v) => v !== 0).length / B;
    assert(Math.abs(l0 - m.l0) < 0.02, `reopened L0 ${l0}, trainer ${m.l0}`);
  });
}
