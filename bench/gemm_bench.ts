/**
 * GEMM throughput on the WebGPU device, packing included (what a training step pays):
 *   GFLOP/s = 2·M·K·N / seconds, median of `--repeats` timed submissions (each awaits
 *   onSubmittedWorkDone) after one warm-up.
 * Also printed: `cpu-eq`, the same flops over (process CPU seconds / cores): what the run would reach
 * on an otherwise idle machine. The load average is printed too; other jobs on these 2 cores swing
 * wall-clock numbers by 2x.
 *
 *   deno run -A bench/gemm_bench.ts [--json] [--filter NAME] [--repeats 5] [--tile cpu|gpu]
 *
 * `--tile` runs the texture path with that register tile (kernels/gemm/tile.ts) instead of the device's
 * choice, e.g. to see what the GPU tile costs on a CPU adapter.
 *
 * `--json` prints one JSON array last: {"name","params","value","unit":"GFLOP/s"} per shape.
 */
import "../stages/cli_help.ts"; // --help prints the comment above
import { parseArgs } from "node:util";
import { CPU_TILE, createGemm, type GemmSpec, GPU_TILE } from "../kernels/gemm/mod.ts";
import { getDevice } from "../kernels/runtime/device.ts";
import { cpuNs } from "./cpu_time.ts";

const { values: args } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    filter: { type: "string", default: "" },
    repeats: { type: "string", default: "5" },
    tile: { type: "string" },
  },
});
if (args.tile && args.tile !== "cpu" && args.tile !== "gpu") throw new Error(`--tile: cpu or gpu, got ${args.tile}`);
const tile = args.tile === "cpu" ? CPU_TILE : args.tile === "gpu" ? GPU_TILE : undefined;
const repeats = Number(args.repeats);

/**
 * The trainer's shapes at d_in 512, d_sae 8192, batch 4096 tokens. Buffers have COPY_SRC (operands
 * with 256-byte rows are copied into textures) except `*_packed`, where a shader packs them.
 */
const cases: { name: string; spec: GemmSpec; copySrc?: boolean }[] = [
  { name: "gemm.encoder", spec: { M: 4096, K: 512, N: 8192, bias: true } },
  { name: "gemm.encoder_packed", spec: { M: 4096, K: 512, N: 8192, bias: true }, copySrc: false },
  { name: "gemm.encoder_sub", spec: { M: 4096, K: 512, N: 8192, bias: true, subtractInput: true } },
  { name: "gemm.decode", spec: { M: 4096, K: 8192, N: 512 } },
  { name: "gemm.a_bt", spec: { M: 4096, K: 512, N: 8192, transB: true } },
  { name: "gemm.at_b_dec", spec: { M: 8192, K: 4096, N: 512, transA: true } },
  { name: "gemm.at_b_enc", spec: { M: 512, K: 4096, N: 8192, transA: true } },
  { name: "gemm.encoder_1024", spec: { M: 1024, K: 512, N: 4096, bias: true } },
  { name: "gemm.encoder_buffer_path", spec: { M: 1024, K: 512, N: 4096, bias: true, path: "buffer" } },
];

const device = await getDevice();
const cores = navigator.hardwareConcurrency;

function filled(n: number, seed: number, copySrc: boolean): GPUBuffer {
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.sin(i * 0.37 + seed) * 0.5;
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | (copySrc ? GPUBufferUsage.COPY_SRC : 0);
  const buf = device.createBuffer({ size: n * 4, usage });
  device.queue.writeBuffer(buf, 0, data);
  return buf;
}

async function timeOnce(run: () => void): Promise<{ wall: number; cpu: number }> {
  const c0 = cpuNs();
  const t0 = performance.now();
  run();
  await device.queue.onSubmittedWorkDone();
  return { wall: (performance.now() - t0) / 1000, cpu: (cpuNs() - c0) / 1e9 };
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const results: { name: string; params: Record<string, unknown>; value: number; unit: string }[] = [];
console.log(`load average ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}, ${cores} cores`);
for (const { name, spec, copySrc = true } of cases) {
  if (args.filter && !name.includes(args.filter)) continue;
  const { M, K, N } = spec;
  const gemm = createGemm(device, spec.path === "buffer" ? spec : { ...spec, tile });
  const bufs = {
    a: filled(M * K, 1, copySrc),
    b: filled(K * N, 2, copySrc),
    out: filled(M * N, 3, copySrc),
    bias: spec.bias ? filled(N, 4, copySrc) : undefined,
    sub: spec.subtractInput ? filled(K, 5, copySrc) : undefined,
  };
  const run = () => {
    const enc = device.createCommandEncoder();
    gemm.encode(enc, bufs);
    device.queue.submit([enc.finish()]);
  };
  await timeOnce(run); // warm-up: first touch of textures and buffers
  const times: { wall: number; cpu: number }[] = [];
  for (let i = 0; i < repeats; i++) times.push(await timeOnce(run));
  const wall = median(times.map((t) => t.wall));
  const cpu = median(times.map((t) => t.cpu));
  const gflops = gemm.flops / wall / 1e9;
  const cpuEq = gemm.flops / (cpu / cores) / 1e9;
  const t = gemm.tile;
  const tileName = t ? `${t.R}×${4 * t.CQ} in ${t.WG_X}×${t.WG_Y}` : undefined;
  const params = { M, K, N, transA: !!spec.transA, transB: !!spec.transB, path: gemm.path, tile: tileName, repeats };
  results.push({ name, params, value: Number(gflops.toFixed(2)), unit: "GFLOP/s" });
  const walls = times.map((t) => (t.wall * 1000).toFixed(0)).join(",");
  console.log(
    `${name.padEnd(25)} ${`${M}×${K}×${N}`.padEnd(15)} ${gflops.toFixed(2).padStart(6)} GFLOP/s  ` +
      `(cpu-eq ${cpuEq.toFixed(1)}; ms ${walls}; ${gemm.path}${tileName ? ` ${tileName}` : ""})`,
  );
  for (const b of Object.values(bufs)) b?.destroy();
}
console.log(`load average ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
if (args.json) console.log(JSON.stringify(results));
