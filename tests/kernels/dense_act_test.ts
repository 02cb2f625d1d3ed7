/**
 * Dense ReLU / JumpReLU forward, latent statistics and backward against the float64 reference, on the
 * whole [B, S] and as tiles (uneven batch chunks × latent slabs, kernels/dense/dense_tile.wgsl) that
 * add their shares into the same rowstats and per-latent sums.
 */
import { assertEquals } from "../assert.ts";
import { createBuffer, getDevice, readF32, readU32, uploadBuffer } from "../../kernels/runtime/device.ts";
import { createDenseAct, denseActReference } from "../../kernels/dense/mod.ts";
import { Rng } from "../../stages/train/rng.ts";
import { assertClose, hyperWith, randn, run, tileOf, untile } from "./harness.ts";

for (const jump of [false, true]) {
  for (const [B, S, tiled] of [[37, 100, false], [64, 4096, false], [37, 100, true]] as const) {
    const name = jump ? "jumprelu" : "standard";
    Deno.test(`dense_act kernels (${name}) B ${B} d_sae ${S}${tiled ? ", 2 × 2 uneven tiles" : ""} match float64`, async () => {
      const device = await getDevice();
      const r = new Rng(B * S, jump ? 19 : 20);
      const bandwidth = 0.3;
      const coef = 0.7;
      // Some θ below ε/2: the STE window then reaches negative pre-activations (SAELens: raw pre).
      const logThr = new Float32Array(S).map(() => Math.log(0.05 + 0.75 * r.next()));
      // Keep pre-activations 1e-3 away from the decision edges (0, θ, θ ± ε/2): float32 exp() and
      // float64 Math.exp() may disagree on a value sitting on an edge.
      const edges = (i: number) => {
        const th = Math.exp(logThr[i]);
        return [0, th, th - bandwidth / 2, th + bandwidth / 2];
      };
      const pre = new Float32Array(B * S);
      for (let j = 0; j < B * S; j++) {
        const i = j % S;
        let v: number;
        do v = i % 7 === 0 ? -Math.abs(r.normal()) - 0.01 : r.normal(); // every 7th latent never fires
         while (edges(i).some((e) => Math.abs(v - e) < 1e-3));
        pre[j] = v;
      }
      const dz = randn(r, B * S, 0.1);
      const wnorm = new Float32Array(S).map(() => 0.5 + r.next());
      const since = new Uint32Array(S).map(() => r.int(500));
      since[7] = 0xf0000000 - 3; // saturates
      const bufs = {
        pre: uploadBuffer(device, pre),
        z: createBuffer(device, B * S * 4),
        dz: uploadBuffer(device, dz),
        log_thr: uploadBuffer(device, logThr),
        wnorm: uploadBuffer(device, wnorm),
        hyper: uploadBuffer(device, hyperWith({ SPARSITY_COEF: coef })),
        gb_enc: createBuffer(device, S * 4),
        zsum: createBuffer(device, S * 4),
        glog: createBuffer(device, S * 4),
        since: uploadBuffer(device, since),
        rowstats: createBuffer(device, B * 8 * 4),
      };
      const z = new Float32Array(B * S);
      const dpre = new Float32Array(B * S);
      if (!tiled) {
        const k = (await createDenseAct(device, { B, S, jump, bandwidth }))(bufs);
        await run(device, k.forward, k.stats, k.backward);
        z.set(await readF32(device, bufs.z, B * S));
        dpre.set(await readF32(device, bufs.dz, B * S));
      } else {
        const chunks = [{ start: 0, size: 20 }, { start: 20, size: B - 20 }];
        const slabs = [{ start: 0, size: 52 }, { start: 52, size: S - 52 }];
        for (const [ci, c] of chunks.entries()) {
          for (const [j, sl] of slabs.entries()) {
            const tile = { rows: c.size, row0: c.start, lo: sl.start, rowAcc: j > 0, latAcc: ci > 0, rowStats: true };
            const t = {
              ...bufs,
              pre: uploadBuffer(device, tileOf(pre, S, 0, c, sl)),
              z: createBuffer(device, c.size * sl.size * 4),
              dz: uploadBuffer(device, tileOf(dz, S, 0, c, sl)),
            };
            const k = (await createDenseAct(device, { B, S: sl.size, jump, bandwidth, tile }))(t);
            await run(device, k.forward, k.stats, k.backward);
            untile(z, await readF32(device, t.z, c.size * sl.size), S, 0, c, sl);
            untile(dpre, await readF32(device, t.dz, c.size * sl.size), S, 0, c, sl);
          }
        }
      }
      const ref = denseActReference({ B, S, jump, bandwidth }, pre, dz, logThr, wnorm, coef, since);
      assertClose(z, ref.z, "z", { rtol: 0, atol: 0, nonzero: 0.2 });
      const rs = await readF32(device, bufs.rowstats, B * 8);
      for (const c of [2, 3, 5]) {
        const pick = (a: ArrayLike<number>) => Float64Array.from({ length: B }, (_, t) => a[t * 8 + c]);
        assertClose(pick(rs), pick(ref.rowstats), `rowstats slot ${c}`, { atol: 1e-5 });
      }
      assertClose(await readF32(device, bufs.zsum, S), ref.zsum, "zsum", { atol: 1e-5, nonzero: 0.8 });
      assertClose(await readF32(device, bufs.gb_enc, S), ref.gbEnc, "gb_enc", { atol: 1e-5 });
      assertEquals(Array.from(await readU32(device, bufs.since, S)), Array.from(ref.since));
      assertClose(dpre, ref.dpre, "dpre", { atol: 1e-7, nonzero: 0.2 });
      if (jump) assertClose(await readF32(device, bufs.glog, S), ref.glog, "glog", { atol: 1e-4, nonzero: 0.8 });
    });
  }
}
