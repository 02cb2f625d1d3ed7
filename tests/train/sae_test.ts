/** SaeGpu (float32, device) against sae_cpu (float64) on random weights and inputs. */
import { assert } from "../assert.ts";
import { SaeGpu } from "../../stages/train/sae_gpu.ts";
import { decode, encode, type SaeConfig, type SaeWeights } from "../../stages/train/sae_cpu.ts";
import { Rng } from "../../stages/train/rng.ts";

function randomSae(arch: string, D: number, S: number, k: number): { w: SaeWeights; cfg: SaeConfig } {
  const r = new Rng(D * S, 9);
  const f = (n: number, s: number) => new Float32Array(n).map(() => s * r.normal());
  const w: SaeWeights = {
    W_enc: f(D * S, 0.2),
    W_dec: f(S * D, 0.2),
    b_enc: f(S, 0.1),
    b_dec: f(D, 0.1),
    threshold: new Float32Array(S).map(() => 0.2 + 0.3 * r.next()),
  };
  return { w, cfg: { architecture: arch, d_in: D, d_sae: S, k, apply_b_dec_to_input: true } };
}

for (const arch of ["topk", "jumprelu", "standard"]) {
  Deno.test(`SaeGpu ${arch}: latents and reconstruction match sae_cpu`, async () => {
    const D = 48;
    const S = 100;
    const n = 37;
    const { w, cfg } = randomSae(arch, D, S, 7);
    const x = new Float32Array(n * D).map((_, j) => Math.sin(j * 0.37) * 2);
    const zRef = encode(w, cfg, x, n);
    const xRef = decode(w, cfg, zRef, n);
    const sae = await SaeGpu.fromWeights(w, cfg);
    const e = await sae.encodeBatch(x, n);
    const z = new Float64Array(n * S);
    if ("idx" in e) {
      for (let j = 0; j < e.idx.length; j++) {
        if (e.idx[j] !== 0xffffffff) z[Math.floor(j / e.k) * S + e.idx[j]] = e.val[j];
      }
    } else z.set(e.dense);
    let active = 0;
    for (let j = 0; j < z.length; j++) {
      if (zRef[j] > 0) active++;
      assert(Math.abs(z[j] - zRef[j]) < 1e-4 * (1 + Math.abs(zRef[j])), `${arch} z[${j}] ${z[j]} vs ${zRef[j]}`);
    }
    assert(active > n, `${arch}: only ${active} active latents`);
    const xh = await sae.reconstruct(x, n);
    for (let j = 0; j < xh.length; j++) {
      assert(Math.abs(xh[j] - xRef[j]) < 1e-4 * (1 + Math.abs(xRef[j])), `${arch} x̂[${j}] ${xh[j]} vs ${xRef[j]}`);
    }
    sae.destroy();
  });
}
