/**
 * Every GEMM variant against the float64 reference on random non-zero inputs, at sizes that are and
 * are not multiples of the kernel tile. Tolerance per element: |got - ref| ≤ 4e-6·(√K + 1)·scale,
 * scale = Σ_k |opA[m,k]|·|opB[k,n]| + |bias[n]| + |C0[m,n]| (the f32 round-off scale of that output).
 */
import assert from "node:assert/strict";
import { CPU_TILE, createEncoderGemm, createGemm, type GemmSpec, gemmTile, GPU_TILE } from "../../kernels/gemm/mod.ts";
import { fitTile } from "../../kernels/gemm/tile.ts";
import { getDevice } from "../../kernels/runtime/device.ts";
import { gemmReference } from "../../kernels/gemm/reference.ts";
import { expandTemplate } from "../../kernels/runtime/unroll.ts";
import { createRowTexture, type RowTexture } from "../../kernels/runtime/row_texture.ts";

// getDevice: the device the trainer gets, so the GEMM picks the tile it picks for the trainer (./tile.ts)
const device = await getDevice();

/** Deterministic values in ±[0.05, 1] (never zero). */
function random(n: number, seed: number): Float32Array<ArrayBuffer> {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    const u = (s >>> 0) / 2 ** 32;
    out[i] = (u < 0.5 ? -1 : 1) * (0.05 + 0.95 * ((u * 2) % 1));
  }
  return out;
}

/** A storage buffer holding data; without copySrc the texture path must pack it with a shader. */
function upload(data: Float32Array<ArrayBuffer>, copySrc = true): GPUBuffer {
  const buf = device.createBuffer({
    size: Math.max(16, data.byteLength),
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | (copySrc ? GPUBufferUsage.COPY_SRC : 0),
  });
  device.queue.writeBuffer(buf, 0, data);
  return buf;
}

async function download(buf: GPUBuffer, n: number): Promise<Float32Array> {
  const staging = device.createBuffer({ size: n * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(buf, 0, staging, 0, n * 4);
  device.queue.submit([enc.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(staging.getMappedRange().slice(0));
  staging.destroy();
  return out;
}

interface Inputs {
  a: Float32Array<ArrayBuffer>;
  b: Float32Array<ArrayBuffer>;
  bias?: Float32Array<ArrayBuffer>;
  sub?: Float32Array<ArrayBuffer>;
  c0?: Float32Array<ArrayBuffer>;
}

function makeInputs(spec: GemmSpec, seed: number): Inputs {
  const { M, K, N } = spec;
  return {
    a: random(M * K, seed),
    b: random(K * N, seed + 1),
    bias: spec.bias ? random(N, seed + 2) : undefined,
    sub: spec.subtractInput ? random(K, seed + 3) : undefined,
    c0: spec.accumulate ? random(M * N, seed + 4) : undefined,
  };
}

/** Compares got with the float64 reference under the tolerance in the module doc. */
function assertClose(spec: GemmSpec, x: Inputs, got: Float32Array): void {
  const { M, K, N, transA = false, transB = false } = spec;
  const alpha = spec.alpha ?? 1;
  const ref = gemmReference({ ...spec, a: x.a, b: x.b, bias: x.bias, sub: x.sub, c: x.c0 });
  const absA = x.a.map((v, i) => {
    const k = transA ? Math.floor(i / M) : i % K;
    return Math.abs(v) + (x.sub ? Math.abs(x.sub[k]) : 0);
  });
  const scale = gemmReference({ M, K, N, transA, transB, a: absA, b: x.b.map(Math.abs) });
  const tol = 4e-6 * (Math.sqrt(K) + 1);
  let worst = 0;
  for (let m = 0; m < M; m++) {
    for (let n = 0; n < N; n++) {
      const i = m * N + n;
      const s = Math.abs(alpha) * scale[i] + (x.bias ? Math.abs(x.bias[n]) : 0) + (x.c0 ? Math.abs(x.c0[i]) : 0);
      const err = Math.abs(got[i] - ref[i]) / s;
      if (!(err <= tol)) {
        throw new Error(`${JSON.stringify(spec)}: C[${m},${n}] = ${got[i]}, reference ${ref[i]} (rel ${err})`);
      }
      worst = Math.max(worst, err);
    }
  }
  assert.ok(worst <= tol);
}

async function runGemm(spec: GemmSpec, seed: number, copySrc = true): Promise<{ x: Inputs; got: Float32Array }> {
  const x = makeInputs(spec, seed);
  const out = upload(x.c0 ?? random(spec.M * spec.N, seed + 9)); // garbage unless accumulating
  const bufs = {
    a: upload(x.a, copySrc),
    b: upload(x.b, copySrc),
    out,
    bias: x.bias && upload(x.bias),
    sub: x.sub && upload(x.sub),
  };
  const gemm = createGemm(device, spec);
  assert.equal(gemm.path, spec.path ?? "texture");
  const enc = device.createCommandEncoder();
  gemm.encode(enc, bufs);
  device.queue.submit([enc.finish()]);
  const got = await download(out, spec.M * spec.N);
  for (const b of Object.values(bufs)) b?.destroy();
  return { x, got };
}

const shapes: [number, number, number][] = [
  [1, 1, 1],
  [37, 13, 29],
  [48, 100, 64],
  [48, 64, 100],
  [64, 128, 96],
  [5, 4096, 9],
  [3, 7, 4096],
  [16, 512, 4096],
];

const paths = ["texture", "buffer"] as const;

Deno.test("encoder GEMM (x - sub)·W + bias matches float64 at tile and odd sizes, both paths", async () => {
  let seed = 1;
  for (const [M, K, N] of shapes) {
    for (const [subtractInput, path] of [[false, "texture"], [true, "texture"], [M < 64, "buffer"]] as const) {
      const spec = { M, K, N, bias: true, subtractInput };
      const x = makeInputs(spec, seed++);
      const bufs = {
        x: upload(x.a),
        W: upload(x.b),
        bias: upload(x.bias!),
        sub: x.sub && upload(x.sub),
        out: upload(random(M * N, 99)),
      };
      const enc = device.createCommandEncoder();
      const gemm = createEncoderGemm(device, { M, K, N }, { subtractInput, path });
      assert.equal(gemm.path, path);
      gemm.encode(enc, bufs);
      device.queue.submit([enc.finish()]);
      assertClose(spec, x, await download(bufs.out, M * N));
      for (const b of Object.values(bufs)) b?.destroy();
    }
  }
});

Deno.test("transposed GEMMs (Aᵀ·B, A·Bᵀ, Aᵀ·Bᵀ) with alpha, accumulate, subtract match float64", async () => {
  let seed = 100;
  for (const path of paths) {
    const cases: GemmSpec[] = [];
    for (const [M, K, N] of [[1, 1, 1], [37, 13, 29], [48, 100, 64], [64, 96, 128], [9, 1000, 33]]) {
      cases.push({ M, K, N, transA: true }, { M, K, N, transB: true }, { M, K, N, transA: true, transB: true });
      cases.push({ M, K, N, transA: true, accumulate: true, alpha: -0.25, subtractInput: true });
      cases.push({ M, K, N, transB: true, bias: true, subtractInput: true, alpha: 2 });
    }
    cases.push({ M: 100, K: 48, N: 512, accumulate: true, alpha: 0.5 });
    cases.push({ M: 64, K: 128, N: 256, transA: true, transB: true });
    for (const spec of cases) {
      const { x, got } = await runGemm({ ...spec, path }, seed++);
      assertClose(spec, x, got);
    }
  }
});

Deno.test("both register tiles (CPU 16×16 in 8×2, GPU 4×4 in 16×16) match float64 in every layout", async () => {
  let seed = 500;
  for (const tile of [CPU_TILE, GPU_TILE]) {
    const cases: GemmSpec[] = [];
    // below, at and past one workgroup block (CPU 32 × 128, GPU 64 × 64) on each side
    for (const [M, K, N] of [[1, 3, 5], [31, 13, 127], [64, 100, 64], [65, 64, 129], [130, 37, 200]]) {
      cases.push({ M, K, N, bias: true, subtractInput: true });
      cases.push({ M, K, N, transA: true, accumulate: true, alpha: -0.5 });
      cases.push({ M, K, N, transB: true, bias: true }, { M, K, N, transA: true, transB: true });
    }
    for (const spec of cases) {
      const { x, got } = await runGemm({ ...spec, tile, path: "texture" }, seed++);
      assertClose(spec, x, got);
    }
  }
});

Deno.test("the tile comes from the device: CPU tile on a fallback adapter, GPU workgroups fitted to the limits", async () => {
  const cpu = (await navigator.gpu.requestAdapter())?.info.isFallbackAdapter;
  const gemm = createGemm(device, { M: 8, K: 8, N: 8 });
  assert.deepEqual(gemm.tile, gemmTile(device));
  assert.deepEqual(gemm.tile, cpu ? CPU_TILE : fitTile(device, GPU_TILE));
  gemm.destroy();
  const limited = (invocations: number, x: number, y: number) =>
    ({
      limits: {
        maxComputeInvocationsPerWorkgroup: invocations,
        maxComputeWorkgroupSizeX: x,
        maxComputeWorkgroupSizeY: y,
      },
    }) as unknown as GPUDevice;
  assert.deepEqual(fitTile(limited(256, 256, 256), GPU_TILE), GPU_TILE);
  assert.deepEqual(fitTile(limited(128, 256, 256), GPU_TILE), { ...GPU_TILE, WG_X: 16, WG_Y: 8 });
  assert.deepEqual(fitTile(limited(256, 8, 4), GPU_TILE), { ...GPU_TILE, WG_X: 8, WG_Y: 4 });
  assert.deepEqual(fitTile(limited(1, 1, 1), GPU_TILE), { ...GPU_TILE, WG_X: 1, WG_Y: 1 });
});

Deno.test("texture path packs with a shader when buffers lack COPY_SRC (aligned and odd sizes)", async () => {
  let seed = 300;
  for (
    const spec of [
      { M: 64, K: 128, N: 256, bias: true },
      { M: 64, K: 128, N: 256, transA: true, transB: true },
      { M: 37, K: 13, N: 29, transB: true },
    ] as GemmSpec[]
  ) {
    const { x, got } = await runGemm(spec, seed++, false);
    assertClose(spec, x, got);
  }
});

Deno.test("accumulate adds onto the output, twice in one submission", async () => {
  const spec: GemmSpec = { M: 33, K: 20, N: 40, transB: true, accumulate: true };
  const x = makeInputs(spec, 7);
  const out = upload(x.c0!);
  const bufs = { a: upload(x.a), b: upload(x.b), out };
  const gemm = createGemm(device, spec);
  const enc = device.createCommandEncoder();
  gemm.encode(enc, bufs);
  gemm.encode(enc, bufs);
  device.queue.submit([enc.finish()]);
  assertClose({ ...spec, alpha: 2 }, x, await download(out, spec.M * spec.N));
});

Deno.test("clear errors: bad dims, too-small buffers, operands over maxStorageBufferBindingSize", () => {
  assert.throws(() => createGemm(device, { M: 0, K: 4, N: 4 }), /M must be a positive integer/);
  assert.throws(() => createGemm(device, { M: 4, K: 2.5, N: 4 }), /K must be a positive integer/);
  const big = device.limits.maxStorageBufferBindingSize / 4;
  assert.throws(() => createGemm(device, { M: 2, K: big, N: 1 }), /maxStorageBufferBindingSize/);
  assert.throws(() => createGemm(device, { M: 1, K: 2, N: big }), /maxStorageBufferBindingSize/);
  const gemm = createGemm(device, { M: 8, K: 8, N: 8, bias: true });
  const small = upload(new Float32Array(8));
  const enc = device.createCommandEncoder();
  assert.throws(
    () => gemm.encode(enc, { a: small, b: small, out: small, bias: small }),
    /buffer 'a' has 32 bytes, needs 256/,
  );
  assert.throws(
    () =>
      gemm.encode(enc, {
        a: upload(new Float32Array(64)),
        b: upload(new Float32Array(64)),
        out: upload(new Float32Array(64)),
      }),
    /buffer 'bias' is required/,
  );
});

Deno.test("auto path falls back to buffers past maxTextureDimension2D; texture path then refuses", async () => {
  const M = device.limits.maxTextureDimension2D + 5;
  const spec: GemmSpec = { M, K: 3, N: 2, bias: true };
  const { x, got } = await runGemm({ ...spec, path: "buffer" }, 500);
  assertClose(spec, x, got);
  assert.equal(createGemm(device, spec).path, "buffer");
  assert.throws(() => createGemm(device, { ...spec, path: "texture" }), /maxTextureDimension2D/);
});

Deno.test("unroll template: nested loops, $(expr) arithmetic, comments kept, errors named", () => {
  const text = [
    "// $(keep) me",
    "// @unroll(i, N/2)",
    "// @unroll(j, 2)",
    "a_$(i)_$(j) = $(2*i+j+N%3);",
    "// @end",
    "// @end",
    "x = $(N);",
  ].join("\n");
  assert.equal(
    expandTemplate(text, { N: 4 }),
    ["// $(keep) me", "a_0_0 = 1;", "a_0_1 = 2;", "a_1_0 = 3;", "a_1_1 = 4;", "x = 4;"].join("\n"),
  );
  assert.throws(() => expandTemplate("y = $(Q);", {}), /unknown name 'Q'/);
  assert.throws(() => expandTemplate("// @unroll(i, 2)\ny;", {}), /no '\/\/ @end'/);
  assert.throws(() => expandTemplate("y;\n// @end", {}), /unmatched/);
});

/** Reads a row texture (kernels/row_texture.ts layout) back as a row-major [rows, cols] array. */
async function readRows(t: RowTexture): Promise<Float32Array> {
  const module = device.createShaderModule({
    code: `
    override FOLD: u32; override QW: u32; override ROWS: u32;
    @group(0) @binding(0) var src: texture_storage_2d<rgba32float, read>;
    @group(0) @binding(1) var<storage, read_write> dst: array<vec4<f32>>;
    @compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3<u32>) {
      let r = g.x / QW; let q = g.x % QW;
      if (r >= ROWS) { return; }
      dst[g.x] = textureLoad(src, vec2<u32>((r % FOLD) * QW + q, r / FOLD));
    }`,
  });
  const pipeline = device.createComputePipeline({
    layout: "auto",
    compute: { module, entryPoint: "main", constants: { FOLD: t.fold, QW: t.qw, ROWS: t.rows } },
  });
  const out = upload(new Float32Array(t.rows * t.cols));
  const group = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [{ binding: 0, resource: t.view }, { binding: 1, resource: { buffer: out } }],
  });
  const enc = device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, group);
  pass.dispatchWorkgroups(Math.ceil((t.rows * t.qw) / 64));
  pass.end();
  device.queue.submit([enc.finish()]);
  const got = await download(out, t.rows * t.cols);
  out.destroy();
  return got;
}

Deno.test("encoder GEMM writes pre into a row texture and exposes the packed x - sub (folded and not)", async () => {
  for (const [M, K, N] of [[37, 100, 64], [70, 64, 36]] as const) {
    const spec = { M, K, N, bias: true, subtractInput: true };
    const x = makeInputs(spec, 900 + M);
    const preTex = createRowTexture(device, M, N, "pre rows");
    const gemm = createEncoderGemm(device, { M, K, N }, { subtractInput: true, outTexture: preTex });
    assert.equal(gemm.path, "texture");
    const bufs = { x: upload(x.a), W: upload(x.b), bias: upload(x.bias!), sub: upload(x.sub!) };
    const enc = device.createCommandEncoder();
    gemm.encode(enc, bufs);
    device.queue.submit([enc.finish()]);
    assertClose(spec, x, await readRows(preTex));
    const xc = await readRows(gemm.packedA!);
    for (let i = 0; i < M * K; i++) assert.equal(xc[i], Math.fround(x.a[i] - x.sub![i % K]));
    for (const b of Object.values(bufs)) b.destroy();
    gemm.destroy();
    preTex.destroy();
  }
  const t = createRowTexture(device, 4, 8, "t");
  assert.throws(() => createGemm(device, { M: 4, K: 4, N: 8, accumulate: true, outTexture: t }), /outTexture/);
  assert.throws(() => createGemm(device, { M: 5, K: 4, N: 8, outTexture: t }), /outTexture/);
  t.destroy();
});
