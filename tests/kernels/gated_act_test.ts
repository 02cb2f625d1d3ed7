/**
 * Gated SAE forward (stacked f; a latents, row stats) and backward (per-latent gradients, du) against float64,
 * on the whole [B, S] and as uneven 2 × 2 tiles (kernels/dense/dense_tile.wgsl) adding into the same sums.
 */
import { assertEquals } from "../assert.ts";
import { createBuffer, getDevice, readF32, readU32, uploadBuffer } from "../../kernels/runtime/device.ts";
import { createGatedAct, gatedActReference } from "../../kernels/dense/mod.ts";
import { Rng } from "../../stages/train/rng.ts";
import { assertClose, randn, run, tileOf, untile } from "./harness.ts";

for (const [B, S, tiled] of [[37, 100, false], [64, 4096, false], [5, 63, false], [37, 100, true]] as const) {
  Deno.test(`gated_act kernels B ${B} d_sae ${S}${tiled ? ", 2 × 2 uneven tiles" : ""} match float64`, async () => {
    const device = await getDevice();
    const r = new Rng(B * S, 31);
    const l1 = 0.6;
    const rMag = randn(r, S, 0.5);
    const bGate = randn(r, S, 0.2);
    const bMag = randn(r, S, 0.2);
    // Keep π_gate and π_mag 1e-3 away from 0: float32 exp() and float64 Math.exp() may disagree there.
    const pre = new Float32Array(B * S);
    for (let j = 0; j < B * S; j++) {
      const i = j % S;
      let v: number;
      do v = i % 7 === 0 ? -Math.abs(r.normal()) - 0.01 : r.normal(); // every 7th latent never opens
       while (Math.abs(v) < 1e-3 || Math.abs(Math.exp(rMag[i]) * (v - bGate[i]) + bMag[i]) < 1e-3);
      pre[j] = v;
    }
    const dz = randn(r, 2 * B * S, 0.1);
    const wnorm = new Float32Array(S).map(() => 0.1 + r.next());
    const since = new Uint32Array(S).map(() => r.int(500));
    since[7] = 0xf0000000 - 3; // saturates
    const bufs = {
      pre: uploadBuffer(device, pre),
      r_mag: uploadBuffer(device, rMag),
      b_gate: uploadBuffer(device, bGate),
      b_mag: uploadBuffer(device, bMag),
      wnorm: uploadBuffer(device, wnorm),
      hyper: uploadBuffer(device, new Float32Array([0, 0, 0, 0, 0, 0, l1, 0])),
      z: createBuffer(device, 2 * B * S * 4),
      dz: uploadBuffer(device, dz),
      rowstats: createBuffer(device, B * 8 * 4),
      gb_gate: createBuffer(device, S * 4),
      gb_mag: createBuffer(device, S * 4),
      gr_mag: createBuffer(device, S * 4),
      gsum: createBuffer(device, S * 4),
      zsum: createBuffer(device, S * 4),
      since: uploadBuffer(device, since),
      lat: createBuffer(device, 4 * S * 4),
      lgrad: createBuffer(device, 5 * S * 4),
    };
    const z = new Float32Array(2 * B * S);
    const du = new Float32Array(B * S);
    const k = (await createGatedAct(device, { B, S }))(bufs);
    if (!tiled) {
      await run(device, k.pack, k.forward, k.backward, k.unpack);
      z.set(await readF32(device, bufs.z, 2 * B * S));
      du.set(await readF32(device, bufs.dz, B * S));
    } else {
      await run(device, k.pack);
      const chunks = [{ start: 0, size: 20 }, { start: 20, size: B - 20 }];
      const slabs = [{ start: 0, size: 52 }, { start: 52, size: S - 52 }];
      for (const [ci, c] of chunks.entries()) {
        for (const [j, sl] of slabs.entries()) {
          const tile = { rows: c.size, row0: c.start, lo: sl.start, rowAcc: j > 0, latAcc: ci > 0, rowStats: true };
          const n = c.size * sl.size;
          const dzT = new Float32Array(2 * n);
          dzT.set(tileOf(dz, S, 0, c, sl));
          dzT.set(tileOf(dz, S, B, c, sl), n);
          const t = {
            ...bufs,
            pre: uploadBuffer(device, tileOf(pre, S, 0, c, sl)),
            z: createBuffer(device, 2 * n * 4),
          };
          t.dz = uploadBuffer(device, dzT);
          const kt = (await createGatedAct(device, { B, S: sl.size, SA: S, tile }))(t);
          await run(device, kt.forward, kt.backward);
          const zT = await readF32(device, t.z, 2 * n);
          untile(z, zT.subarray(0, n), S, 0, c, sl);
          untile(z, zT.subarray(n), S, B, c, sl);
          untile(du, await readF32(device, t.dz, n), S, 0, c, sl);
        }
      }
      await run(device, k.unpack);
    }
    const ref = gatedActReference({ B, S }, pre, dz, { r_mag: rMag, b_gate: bGate, b_mag: bMag, wnorm }, l1, since);
    assertClose(z, ref.z, "z = [f; a]", { atol: 1e-6, nonzero: 0.2 });
    const rs = await readF32(device, bufs.rowstats, B * 8);
    for (const c of [2, 3, 5]) {
      const pick = (a: ArrayLike<number>) => Float64Array.from({ length: B }, (_, t) => a[t * 8 + c]);
      assertClose(pick(rs), pick(ref.rowstats), `rowstats slot ${c}`, { atol: 1e-4 });
    }
    assertClose(du, ref.du, "du", { atol: 1e-7, nonzero: 0.2 });
    for (const [name, want] of [["gb_gate", ref.gbGate], ["gb_mag", ref.gbMag], ["gr_mag", ref.grMag]] as const) {
      assertClose(await readF32(device, bufs[name], S), want, name, { atol: 1e-5, nonzero: 0.6 });
    }
    assertClose(await readF32(device, bufs.gsum, S), ref.gsum, "gsum", { atol: 1e-5, nonzero: 0.6 });
    assertClose(await readF32(device, bufs.zsum, S), ref.zsum, "zsum", { atol: 1e-4, nonzero: 0.6 });
    assertEquals(Array.from(await readU32(device, bufs.since, S)), Array.from(ref.since));
  });
}
