/**
 * What the WebGPU device can do at all, measured with tiny probe kernels: the ceiling a GEMM is held to.
 *
 *   deno run -A bench/device_probe_bench.ts [--json] [--filter NAME] [--repeats 5]
 *
 * - device.fma: f32 FMA throughput of a long unrolled body of independent vec4 FMAs (no memory traffic),
 *   GFLOP/s = 2 · FMAs / seconds.
 * - device.load.texel | sampled | storage | uniform: vec4 loads per second from an rgba32float storage texture,
 *   the same texture sampled, a storage buffer and a uniform buffer, indexed by a loop counter (as a GEMM's k loop indexes its
 *   operands); every invocation reads the same addresses, so caches are warm and only the load path is
 *   timed. Each line also prints `≈ N FMAs`: how many FMAs (at device.fma's rate) one load costs.
 *
 * Why: a register-tiled GEMM whose invocation owns an R × C tile does 4·R·C FMAs per R + C texel loads
 * per 4 k values; when one load costs as much as ~40 FMAs (lavapipe: each invocation is a SIMD lane, and
 * a per-lane load is a gather), the loads bound the GEMM, not the FMAs. Each dispatch is doubled until it
 * runs ≥ 100 ms, so the probe fills a real GPU as well as a CPU. Printed per busy core too (process CPU
 * time, meaningful on CPU adapters).
 */
import "../stages/cli_help.ts"; // --help prints the comment above
import { parseArgs } from "node:util";
import { cpuNs } from "./cpu_time.ts";
import { describeAdapter } from "../kernels/runtime/adapter_report.ts";

const { values: args } = parseArgs({
  options: {
    json: { type: "boolean", default: false },
    filter: { type: "string", default: "" },
    repeats: { type: "string", default: "5" },
  },
});
const repeats = Number(args.repeats);
const WG = 64;

/** FMA probe: CHAINS independent vec4 accumulators, UNROLL FMAs each per loop trip, ITER trips. */
const FMA = { CHAINS: 8, UNROLL: 4, ITER: 512 };
function fmaSource(): string {
  const { CHAINS, UNROLL, ITER } = FMA;
  const init = Array.from({ length: CHAINS }, (_, i) => `var a${i} = vec4<f32>(f32(g.x) + ${i}.0);`).join(" ");
  const body = Array.from(
    { length: UNROLL },
    () => Array.from({ length: CHAINS }, (_, i) => `a${i} = fma(a${i}, b, c);`).join(" "),
  ).join("\n    ");
  const sum = Array.from({ length: CHAINS }, (_, i) => `a${i}`).join(" + ");
  return `
@group(0) @binding(0) var<storage, read_write> out: array<vec4<f32>>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  ${init}
  let b = vec4<f32>(0.999);
  let c = vec4<f32>(0.001);
  for (var i = 0u; i < ${ITER}u; i++) {
    ${body}
  }
  out[g.x] = ${sum};
}`;
}
const fmaFlops = 2 * 4 * FMA.CHAINS * FMA.UNROLL * FMA.ITER; // per invocation

/** Load probes: LOADS vec4 loads per invocation from `src(i)`, four accumulators. */
const LOADS = 256;
function loadSource(decl: string, src: (i: string) => string): string {
  return `
${decl}
@group(0) @binding(1) var<storage, read_write> out: array<vec4<f32>>;
@compute @workgroup_size(${WG})
fn main(@builtin(global_invocation_id) g: vec3<u32>) {
  var s0 = vec4<f32>(0.0); var s1 = s0; var s2 = s0; var s3 = s0;
  for (var i = 0u; i < ${LOADS}u; i += 4u) {
    s0 += ${src("i")}; s1 += ${src("i + 1u")}; s2 += ${src("i + 2u")}; s3 += ${src("i + 3u")};
  }
  out[g.x] = s0 + s1 + s2 + s3;
}`;
}

const adapter = await navigator.gpu.requestAdapter();
if (!adapter) throw new Error("no WebGPU adapter");
const device = await adapter.requestDevice();
const report = await describeAdapter(adapter);
const cores = navigator.hardwareConcurrency;
const maxInvocations = WG * device.limits.maxComputeWorkgroupsPerDimension;
const out = device.createBuffer({ size: maxInvocations * 16, usage: GPUBufferUsage.STORAGE });
const words = new Float32Array(LOADS * 4).map((_, i) => 1 + (i % 7) * 1e-3);
const ubo = device.createBuffer({ size: words.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
const ssbo = device.createBuffer({ size: words.byteLength, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
device.queue.writeBuffer(ubo, 0, words);
device.queue.writeBuffer(ssbo, 0, words);
const tex = device.createTexture({
  size: [LOADS, 1],
  format: "rgba32float",
  usage: GPUTextureUsage.STORAGE_BINDING | GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST,
});
device.queue.writeTexture({ texture: tex }, words, { bytesPerRow: LOADS * 16 }, [LOADS, 1]);

interface Probe {
  name: string;
  code: string;
  /** The binding-0 resource (the output is binding 1, or 0 for the FMA probe). */
  input?: GPUBindingResource;
  /** Work per invocation and its unit. */
  work: number;
  unit: "GFLOP/s" | "Gloads/s";
}
const probes: Probe[] = [
  { name: "device.fma", code: fmaSource(), work: fmaFlops, unit: "GFLOP/s" },
  {
    name: "device.load.texel",
    code: loadSource(
      "@group(0) @binding(0) var t: texture_storage_2d<rgba32float, read>;",
      (i) => `textureLoad(t, vec2<u32>(${i}, 0u))`,
    ),
    input: tex.createView(),
    work: LOADS,
    unit: "Gloads/s",
  },
  {
    name: "device.load.sampled",
    code: loadSource(
      "@group(0) @binding(0) var t: texture_2d<f32>;",
      (i) => `textureLoad(t, vec2<u32>(${i}, 0u), 0)`,
    ),
    input: tex.createView(),
    work: LOADS,
    unit: "Gloads/s",
  },
  {
    name: "device.load.storage",
    code: loadSource(`@group(0) @binding(0) var<storage, read> u: array<vec4<f32>, ${LOADS}>;`, (i) => `u[${i}]`),
    input: { buffer: ssbo },
    work: LOADS,
    unit: "Gloads/s",
  },
  {
    name: "device.load.uniform",
    code: loadSource(`@group(0) @binding(0) var<uniform> u: array<vec4<f32>, ${LOADS}>;`, (i) => `u[${i}]`),
    input: { buffer: ubo },
    work: LOADS,
    unit: "Gloads/s",
  },
];

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const results: { name: string; params: Record<string, unknown>; value: number; unit: string }[] = [];
let fmaRate = 0; // FMAs per second (per busy core when the device runs on this process's threads)
console.log(`${report.description} via ${report.backend}${report.cpu ? ` (on the CPU, ${cores} cores)` : ""}`);
for (const probe of probes) {
  if (args.filter && !probe.name.includes(args.filter)) continue;
  const module = device.createShaderModule({ code: probe.code, label: probe.name });
  const pipe = device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
  const entries: GPUBindGroupEntry[] = probe.input
    ? [{ binding: 0, resource: probe.input }, { binding: 1, resource: { buffer: out } }]
    : [{ binding: 0, resource: { buffer: out } }];
  const group = device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries });
  const time = async (groups: number) => {
    const c0 = cpuNs();
    const t0 = performance.now();
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipe);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(groups);
    pass.end();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    return { wall: (performance.now() - t0) / 1000, cpu: (cpuNs() - c0) / 1e9 };
  };
  let groups = 16;
  await time(groups); // compile and first touch
  while ((await time(groups)).wall < 0.1 && groups * 2 <= device.limits.maxComputeWorkgroupsPerDimension) groups *= 2;
  const runs = [];
  for (let r = 0; r < repeats; r++) runs.push(await time(groups));
  const work = probe.work * groups * WG;
  const wall = median(runs.map((r) => r.wall));
  const cpu = median(runs.map((r) => r.cpu));
  const rate = work / wall; // per second
  const perCore = work / cpu;
  // A CPU adapter (lavapipe) runs the work on this process's threads: per busy core is the number that
  // other load on the machine does not move, so the load/FMA ratio uses it there.
  const onHost = report.cpu;
  const digits = probe.unit === "GFLOP/s" ? 1 : 3;
  const value = Number((rate / 1e9).toFixed(digits));
  let note = onHost ? `per busy core ${(perCore / 1e9).toFixed(digits)}` : "device time";
  const steady = onHost ? perCore : rate;
  if (probe.name === "device.fma") fmaRate = steady / 2;
  else if (fmaRate) note += `; one load ≈ ${(fmaRate / steady).toFixed(0)} FMAs`;
  console.log(
    `${probe.name.padEnd(22)} ${String(value).padStart(8)} ${probe.unit}  (${note}; ${groups * WG} invocations)`,
  );
  results.push({ name: probe.name, params: { invocations: groups * WG, repeats }, value, unit: probe.unit });
}
console.log(`load average ${Deno.loadavg().map((x) => x.toFixed(2)).join(" ")}`);
if (args.json) console.log(JSON.stringify(results));
