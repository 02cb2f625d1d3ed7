/**
 * Dead-latent resampling kernels against the float64 reference: alive norms, re-initialised rows and columns, resets;
 * for SAEs and for transcoders (d_out ≠ d_in, decoder rows toward the target rows y).
 */
import { assert, assertEquals } from "../assert.ts";
import { createBuffer, getDevice, readF32, readU32, uploadBuffer } from "../../kernels/runtime/device.ts";
import { createResample, resampleReference } from "../../kernels/optim/mod.ts";
import { Rng } from "../../stages/train/rng.ts";
import { assertClose, randn, run } from "./harness.ts";

for (
  const [D, S, B, normalize, allDead, dOut] of [
    [48, 100, 37, true, false, undefined],
    [512, 4096, 64, false, false, undefined],
    [7, 63, 5, false, true, undefined],
    [48, 100, 37, false, false, 40],
    [33, 70, 9, true, false, 96],
    [256, 1024, 64, false, false, 320],
  ] as const
) {
  const O = dOut ?? D;
  const what = `${normalize ? "" : ", free-norm decoder"}${allDead ? ", no latent alive" : ""}${
    dOut ? `, transcoder d_out ${dOut}` : ""
  }`;
  Deno.test(`resample kernels d_in ${D} d_sae ${S}${what}: match float64`, async () => {
    const device = await getDevice();
    const r = new Rng(D * S, 51);
    const window = 1000;
    const W_enc = randn(r, D * S, 0.3);
    const W_dec = randn(r, S * O, 0.3);
    const x = randn(r, B * D, 1, 0.5);
    const y = dOut ? randn(r, B * O, 1, 0.5) : undefined;
    const bDec = randn(r, O, 0.1);
    const since = new Uint32Array(S).map(() => allDead ? window + r.int(100) : r.int(2 * window));
    const moments = [0, 1, 2, 3].map((j) => randn(r, (j < 2 ? D : O) * S, 0.01));
    const perLatent = [0, 1, 2].map(() => randn(r, S, 0.5));
    const dead = [...since.keys()].filter((i) => since[i] >= window);
    const picks: [number, number][] = dead.slice(0, B).map((i, j) => [i, (3 * j + 1) % B]);
    assert(picks.length > 2, `${picks.length} picks`);
    const pickWords = new Uint32Array([picks.length, ...picks.flat()]);
    const bufs = {
      picks: uploadBuffer(device, pickWords),
      x: uploadBuffer(device, x),
      ...(y ? { y: uploadBuffer(device, y) } : {}),
      b_dec: uploadBuffer(device, bDec),
      norms: createBuffer(device, 8),
      W_enc: uploadBuffer(device, W_enc),
      W_dec: uploadBuffer(device, W_dec),
      since: uploadBuffer(device, since),
      mW_enc: uploadBuffer(device, moments[0]),
      vW_enc: uploadBuffer(device, moments[1]),
      mW_dec: uploadBuffer(device, moments[2]),
      vW_dec: uploadBuffer(device, moments[3]),
    };
    const lat = perLatent.map((a) => uploadBuffer(device, a));
    const make = await createResample(device, { D, S, window, normalize, d_out: dOut });
    await run(device, ...make(bufs, picks.length, lat));
    const ref = {
      W_enc: Float64Array.from(W_enc),
      W_dec: Float64Array.from(W_dec),
      since: since.slice(),
      moments: moments.map((m) => Float64Array.from(m)),
      perLatent: perLatent.map((a) => Float64Array.from(a)),
    };
    const n = resampleReference({ D, S, window, normalize, d_out: dOut }, ref, x, bDec, picks, y);
    const norms = await readF32(device, bufs.norms, 2);
    assertClose(norms, [n.encNorm, n.decNorm], "alive norms", { rtol: 1e-5, nonzero: 1 });
    assertClose(await readF32(device, bufs.W_enc, D * S), ref.W_enc, "W_enc", { atol: 1e-6 });
    assertClose(await readF32(device, bufs.W_dec, O * S), ref.W_dec, "W_dec", { atol: 1e-6 });
    assertEquals(Array.from(await readU32(device, bufs.since, S)), Array.from(ref.since));
    for (const [j, name] of ["mW_enc", "vW_enc", "mW_dec", "vW_dec"].entries()) {
      const n = (j < 2 ? D : O) * S;
      assertClose(await readF32(device, bufs[name as "mW_enc"], n), ref.moments[j], name, { rtol: 0, atol: 0 });
    }
    for (const [j, b] of lat.entries()) {
      assertClose(await readF32(device, b, S), ref.perLatent[j], `per-latent ${j}`, { rtol: 0, atol: 0 });
    }
  });
}
