/**
 * Dead-latent resampling kernels against the float64 reference: alive norms, re-initialised rows and columns, resets;
 * for SAEs and for transcoders (d_out ≠ d_in, decoder rows toward the target rows y), and over latent slabs of
 * unequal width (parameters and moments in per-slab parts, the alive norms summed across the slabs).
 */
import { assert, assertEquals } from "../assert.ts";
import { createBuffer, getDevice, readF32, readU32, uploadBuffer } from "../../kernels/runtime/device.ts";
import { createResample, resampleReference } from "../../kernels/optim/mod.ts";
import { Rng } from "../../stages/train/rng.ts";
import { joinParam, splitParam } from "../../stages/train/param_store.ts";
import { assertClose, randn, run } from "./harness.ts";

for (
  const [D, S, B, normalize, allDead, dOut, widths] of [
    [48, 100, 37, true, false, undefined, undefined],
    [512, 4096, 64, false, false, undefined, undefined],
    [7, 63, 5, false, true, undefined, undefined],
    [48, 100, 37, false, false, 40, undefined],
    [33, 70, 9, true, false, 96, undefined],
    [256, 1024, 64, false, false, 320, undefined],
    // latent slabs of unequal width (d_sae not a multiple of the slab): picks land in every slab
    [48, 100, 37, false, false, undefined, [34, 34, 32]],
    [7, 63, 64, true, true, undefined, [20, 20, 20, 3]],
  ] as const
) {
  const O = dOut ?? D;
  const slabs = (widths ?? [S]).map((size, j, a) => ({ start: a.slice(0, j).reduce((x, y) => x + y, 0), size }));
  const what = `${normalize ? "" : ", free-norm decoder"}${allDead ? ", no latent alive" : ""}${
    dOut ? `, transcoder d_out ${dOut}` : ""
  }${widths ? `, slabs ${widths.join("+")}` : ""}`;
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
    // every second dead latent (spread over the slabs; half the moments stay as they were)
    const picks: [number, number][] = dead.filter((_, j) => j % 2 === 1).slice(0, B).map((
      i,
      j,
    ) => [i, (3 * j + 1) % B]);
    assert(picks.length > 2, `${picks.length} picks`);
    const pickWords = new Uint32Array([picks.length, ...picks.flat()]);
    for (const sl of slabs) assert(picks.some(([i]) => i >= sl.start && i < sl.start + sl.size), "a pick per slab");
    // W_enc [D, S] by columns, W_dec [S, O] by rows, one buffer per slab
    const parts = (n: "W_enc" | "W_dec", a: Float32Array) =>
      splitParam(n, a, n === "W_enc" ? D : O, S, slabs).map((p) => uploadBuffer(device, p));
    const read = async (n: "W_enc" | "W_dec", bufs: GPUBuffer[]) => {
      const w = n === "W_enc" ? D : O;
      const got = await Promise.all(bufs.map((b, j) => readF32(device, b, w * slabs[j].size)));
      return joinParam(n, got, w, S, slabs);
    };
    const bufs = {
      picks: uploadBuffer(device, pickWords),
      x: uploadBuffer(device, x),
      ...(y ? { y: uploadBuffer(device, y) } : {}),
      b_dec: uploadBuffer(device, bDec),
      norms: createBuffer(device, 8 * 4),
      W_enc: parts("W_enc", W_enc),
      W_dec: parts("W_dec", W_dec),
      since: uploadBuffer(device, since),
      mW_enc: parts("W_enc", moments[0]),
      vW_enc: parts("W_enc", moments[1]),
      mW_dec: parts("W_dec", moments[2]),
      vW_dec: parts("W_dec", moments[3]),
    };
    const lat = perLatent.map((a) => uploadBuffer(device, a));
    const make = await createResample(device, { D, S, window, normalize, d_out: dOut, slabs });
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
    assertClose(await read("W_enc", bufs.W_enc), ref.W_enc, "W_enc", { atol: 1e-6 });
    assertClose(await read("W_dec", bufs.W_dec), ref.W_dec, "W_dec", { atol: 1e-6 });
    assertEquals(Array.from(await readU32(device, bufs.since, S)), Array.from(ref.since));
    for (const [j, name] of ["mW_enc", "vW_enc", "mW_dec", "vW_dec"].entries()) {
      const got = await read(j < 2 ? "W_enc" : "W_dec", bufs[name as "mW_enc"]);
      assertClose(got, ref.moments[j], name, { rtol: 0, atol: 0 });
    }
    for (const [j, b] of lat.entries()) {
      assertClose(await readF32(device, b, S), ref.perLatent[j], `per-latent ${j}`, { rtol: 0, atol: 0 });
    }
  });
}
