/**
 * Train-step speed: a full TopK training step (d_in 512, d_sae 8192, k 32, batch 4096, AuxK on) in
 * tokens/s, median of repeats after a warm-up, plus (without --json's filter) the per-kernel profile
 * of one step (each kernel timed alone, so the profile sums to more than a pipelined step; each entry
 * also holds ~11 ms of submit-and-wait latency: Deno's WebGPU polls for completion on a ~10 ms timer).
 *   deno run -A bench/train_bench.ts [--json] [--filter train.topk] [--small] [--profile] [--reps N]
 * `--small` uses d_sae 4096 (the default real run's size). `train.gated`: the gated SAE's dense step
 * (d_sae 4096, batch 2048: its stacked [2B, d_sae] latents must fit one binding). `train.matryoshka_batchtopk`:
 * the sparse step with 3 levels (d_sae/16, d_sae/4, d_sae), at the topk case's size. With --profile it also prints the median
 * CPU time of a step (all threads, from /proc/self/stat on Linux): on a shared machine the wall time
 * swings with the load, the CPU time much less.
 */
import { trainerConfig } from "../tests/train/trainer_setup.ts";
import { getDevice } from "../kernels/runtime/device.ts";
import { GpuTrainer } from "../stages/train/trainer.ts";
import { initParams } from "../stages/train/init.ts";
import { Rng } from "../stages/train/rng.ts";

const args = Deno.args;
const fi = args.indexOf("--filter");
const filter = fi >= 0 ? args[fi + 1] : undefined;
const device = await getDevice();

async function bench(
  name: string,
  arch: "topk" | "batchtopk" | "gated" | "matryoshka_batchtopk",
  D: number,
  S: number,
  k: number,
  B: number,
  reps: number,
) {
  if (filter && !name.startsWith(filter) && !filter.startsWith("train")) return;
  if (filter && filter.startsWith("train.") && name !== filter) return;
  const init = initParams({ d_in: D, d_sae: S, seed: 1, decoderNorm: 1, initThreshold: 0.1 }, new Float32Array(D));
  const widths = arch === "matryoshka_batchtopk" ? [S / 16, S / 4, S] : undefined;
  const cfg = trainerConfig(arch, { d_in: D, d_sae: S, k, batch: B }, { matryoshkaWidths: widths });
  const t = await GpuTrainer.create(device, cfg, init);
  const r = new Rng(3);
  const x = new Float32Array(B * D).map(() => r.normal());
  const h = {
    lr: 1e-3,
    t: 1,
    sparsityCoef: { gated: 5, matryoshka_batchtopk: 1 }[arch as string] ?? 0,
    auxCoef: 1 / 32,
  };
  t.step(x, h);
  await t.metrics();
  const times: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < reps; i++) {
    const c0 = cpuMs();
    const t0 = performance.now();
    t.step(x, { ...h, t: i + 2 });
    await t.metrics();
    times.push(performance.now() - t0);
    cpus.push(cpuMs() - c0);
  }
  const median = (a: number[]) => a.sort((p, q) => p - q)[Math.floor(a.length / 2)];
  const ms = median(times);
  const cpu = median(cpus);
  if (args.includes("--profile")) {
    // The machine is shared and lavapipe runs on its CPUs: the load says how much to trust the numbers.
    console.log(
      `  step ${ms.toFixed(0)} ms, CPU ${cpu.toFixed(0)} ms (medians of ${reps}), load average ${
        Deno.loadavg().map((l) => l.toFixed(2)).join(" ")
      }`,
    );
    const p = await t.profile(x, h);
    t.kernelLabels.forEach((l, j) => console.log(`  ${l.padEnd(32)} ${p[j].toFixed(1)} ms`));
  }
  t.destroy();
  console.log(
    JSON.stringify({
      name,
      params: { d_in: D, d_sae: S, k, batch: B },
      value: Math.round(B / (ms / 1000)),
      unit: "tokens/s",
    }),
  );
}

/** CPU milliseconds this process has used (user + system, all threads); NaN off Linux. */
function cpuMs(): number {
  try {
    const f = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
    return (Number(f[11]) + Number(f[12])) * 10; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return NaN;
  }
}

const small = args.includes("--small");
const ri = args.indexOf("--reps");
await bench("train.topk", "topk", 512, small ? 4096 : 8192, 32, 4096, ri >= 0 ? Number(args[ri + 1]) : 3);
await bench("train.gated", "gated", 512, 4096, 32, 2048, ri >= 0 ? Number(args[ri + 1]) : 3);
await bench(
  "train.matryoshka_batchtopk",
  "matryoshka_batchtopk",
  512,
  small ? 4096 : 8192,
  32,
  4096,
  ri >= 0 ? Number(args[ri + 1]) : 3,
);
