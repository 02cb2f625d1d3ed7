/**
 * Train-step speed: a full TopK training step (AuxK on) in tokens/s, median of repeats after a warm-up,
 * each case followed by the PyTorch peer (bench/torch_peer.ts: SAELens-style dense, embedding_bag
 * decoder, sparsify-style fully sparse) at the same size in the same run, reported as ratios (the
 * machine is shared and noisy: only ratios measured together mean anything). Without torch it says so
 * in one line and reports ours alone.
 *   deno run -A bench/train_bench.ts [--json] [--filter NAME[,NAME…]] [--small] [--profile] [--reps N] [--wide] [--huge]
 *     [--no-peer]
 * Cases:
 *   train.topk        d_in 512, d_sae 8192, k 32, batch 4096 (one slab: the default run's shape class)
 *   train.topk.wide   d_in 768, d_sae 65536, k 64, batch 4096 (8 latent slabs); with --wide or its filter
 *   train.topk.gemma  d_in 2304, d_sae 131072, k 64, batch 4096 (16 slabs, 2 steps, ~12 GB); --huge or filter
 *   train.topk.transcoder  a TopK transcoder (x → y, d_out 512, AuxK on y − ŷ) at train.topk's size (the same
 *                     --small); no peer; reports its tokens/s over train.topk's from the same run
 *   train.gated       the gated SAE's dense step, d_in 512, d_sae 4096, batch 2048 (one tile); no peer (the
 *                     peer is a TopK SAE)
 *   train.standard    the standard (ReLU + L1) dense step at train.gated's size (one tile); no peer
 *   train.jumprelu.wide  the dense step at d_in 768, d_sae 65536, batch 4096 (8 latent slabs of
 *                     stages/train/dense_tiles.ts, recomputing each tile's pre in the backward); --wide or filter
 *   train.matryoshka_batchtopk  the sparse step with 3 levels (d_sae/16, d_sae/4, d_sae) at train.topk's
 *                     size; no peer
 *   train.matryoshka_batchtopk.wide  the same levels at train.topk.wide's size (8 latent slabs: a prefix
 *                     decode per slab below each level); --wide or its filter
 * Wide cases also report peak RSS (VmHWM: on a CPU adapter device memory is host memory), the bytes of
 * device buffers and row textures the trainer allocated, and the plan's device budget, each also as a
 * ratio to weights + Adam (W_enc, W_dec, biases and their two moments).
 * `--small` uses d_sae 4096 for train.topk. With --profile: median CPU time of a step (all threads,
 * /proc/self/stat) and the per-kernel profile of one step (each kernel timed alone, so it sums to more
 * than a pipelined step; each entry also holds ~11 ms of submit-and-wait latency).
 */
import "../stages/cli_help.ts"; // --help prints the comment above
import { trainerConfig } from "../tests/train/trainer_setup.ts";
import { getDevice } from "../kernels/runtime/device.ts";
import { GpuTrainer } from "../stages/train/trainer.ts";
import { SlabInit } from "../stages/train/init.ts";
import { initTranscoder } from "../stages/train/transcoder_setup.ts";
import { Rng } from "../stages/train/rng.ts";
import { ignoreMissing } from "../pipeline/missing.ts";
import { mib } from "../stages/train/slab_plan.ts";
import { type PeerResult, runTorchPeer } from "./torch_peer.ts";

const args = Deno.args;
const fi = args.indexOf("--filter");
const filter = fi >= 0 ? args[fi + 1] : undefined;
const ri = args.indexOf("--reps");
const reps = ri >= 0 ? Number(args[ri + 1]) : 3;
const device = await getDevice();

interface Case {
  name: string;
  arch?: "topk" | "gated" | "matryoshka_batchtopk" | "standard" | "jumprelu";
  D: number;
  S: number;
  k: number;
  B: number;
  reps: number;
  /** Report memory (wide cases). */
  memory?: boolean;
  /** Opt-in flag (slow on a CPU adapter). */
  flag?: string;
  /** Why the peer is not run at this size. */
  noPeer?: string;
  /** A transcoder's output width (x [B, D] → y [B, dOut]). */
  dOut?: number;
}

/** An architecture without a PyTorch peer at train.topk.wide's size (`--wide`). */
function wideCase(arch: "jumprelu" | "matryoshka_batchtopk"): Case {
  const dims = { D: 768, S: 65536, k: 64, B: 4096, reps: Math.min(reps, 2) };
  return {
    name: `train.${arch}.wide`,
    arch,
    ...dims,
    memory: true,
    flag: "--wide",
    noPeer: `no PyTorch peer for ${arch}`,
  };
}

const CASES: Case[] = [
  { name: "train.topk", D: 512, S: args.includes("--small") ? 4096 : 8192, k: 32, B: 4096, reps },
  {
    name: "train.topk.transcoder",
    D: 512,
    dOut: 512,
    S: args.includes("--small") ? 4096 : 8192,
    k: 32,
    B: 4096,
    reps,
    noPeer: "no PyTorch peer for transcoders",
  },
  { name: "train.gated", arch: "gated", D: 512, S: 4096, k: 32, B: 2048, reps, noPeer: "no PyTorch peer for gated" },
  {
    name: "train.standard",
    arch: "standard",
    D: 512,
    S: 4096,
    k: 32,
    B: 2048,
    reps,
    noPeer: "no PyTorch peer for standard",
  },
  {
    name: "train.matryoshka_batchtopk",
    arch: "matryoshka_batchtopk",
    D: 512,
    S: args.includes("--small") ? 4096 : 8192,
    k: 32,
    B: 4096,
    reps,
    noPeer: "no PyTorch peer for matryoshka_batchtopk",
  },
  { name: "train.topk.wide", D: 768, S: 65536, k: 64, B: 4096, reps: Math.min(reps, 2), memory: true, flag: "--wide" },
  wideCase("jumprelu"),
  wideCase("matryoshka_batchtopk"),
  {
    name: "train.topk.gemma",
    D: 2304,
    S: 131072,
    k: 64,
    B: 4096,
    reps: 1,
    memory: true,
    flag: "--huge",
    noPeer: "PyTorch peer not run at this size: its dense variant alone needs ~10 GB beside ours",
  },
];

function selected(c: Case): boolean {
  const names = filter?.split(",") ?? [];
  if (filter) return names.includes(c.name) || (filter === "train" && !c.flag) || (!!c.flag && args.includes(c.flag));
  return !c.flag || args.includes(c.flag);
}

/** Peak resident set of this process (VmHWM), bytes; NaN off Linux. */
function peakRss(): number {
  try {
    const m = Deno.readTextFileSync("/proc/self/status").match(/VmHWM:\s+(\d+) kB/);
    return m ? Number(m[1]) * 1024 : NaN;
  } catch (e) {
    ignoreMissing(e); // no /proc here
    return NaN;
  }
}

/** CPU milliseconds this process has used (user + system, all threads); NaN off Linux. */
function cpuMs(): number {
  try {
    const f = Deno.readTextFileSync("/proc/self/stat").split(") ")[1].split(" ");
    return (Number(f[11]) + Number(f[12])) * 10; // utime, stime in clock ticks (USER_HZ = 100)
  } catch (e) {
    ignoreMissing(e); // no /proc (not Linux)
    return NaN;
  }
}

const median = (a: number[]) => [...a].sort((p, q) => p - q)[Math.floor(a.length / 2)];
/** tokens/s by case name, this run (the transcoder case reports its ratio to train.topk's). */
const measured: Record<string, number> = {};

async function bench(c: Case) {
  const { D, S, k, B, dOut } = c;
  const dims = { d_in: D, d_sae: S, seed: 1, decoderNorm: 1, initThreshold: 0.1 };
  const init = dOut
    ? initTranscoder({ ...dims, d_out: dOut }, new Float32Array(dOut), false)
    : new SlabInit(dims, new Float32Array(D));
  const t0 = performance.now();
  const arch = c.arch ?? "topk";
  const widths = arch === "matryoshka_batchtopk" ? [S / 16, S / 4, S] : undefined;
  const tc = dOut ? { d_out: dOut, auxK: dOut / 2 } : {};
  const cfg = trainerConfig(arch, { d_in: D, d_sae: S, k, batch: B }, { matryoshkaWidths: widths, ...tc });
  const t = await GpuTrainer.create(device, cfg, init);
  const setup = (performance.now() - t0) / 1000;
  const r = new Rng(3);
  const x = new Float32Array(B * D).map(() => r.normal());
  const y = dOut ? new Float32Array(B * dOut).map(() => r.normal()) : undefined;
  const sparsityCoef = { gated: 5, matryoshka_batchtopk: 1, topk: 0, standard: 5, jumprelu: 1 }[arch];
  const h = { lr: 1e-3, t: 1, sparsityCoef, auxCoef: 1 / 32 };
  t.step(x, h, y);
  await t.metrics();
  const times: number[] = [];
  const cpus: number[] = [];
  for (let i = 0; i < c.reps; i++) {
    const c0 = cpuMs();
    const w0 = performance.now();
    t.step(x, { ...h, t: i + 2 }, y);
    await t.metrics();
    times.push(performance.now() - w0);
    cpus.push(cpuMs() - c0);
  }
  const ms = median(times);
  if (args.includes("--profile")) {
    // The machine is shared and lavapipe runs on its CPUs: the load says how much to trust the numbers.
    console.log(
      `  step ${ms.toFixed(0)} ms, CPU ${median(cpus).toFixed(0)} ms (medians of ${c.reps}), load average ${
        Deno.loadavg().map((l) => l.toFixed(2)).join(" ")
      }`,
    );
    const p = await t.profile(x, h, y);
    t.kernelLabels.forEach((l, j) => console.log(`  ${l.padEnd(32)} ${p[j].toFixed(1)} ms`));
  }
  const ours = Math.round(B / (ms / 1000));
  const plan = { slabs: t.plan.slabs.length, chunks: t.plan.chunks.length };
  const params: Record<string, unknown> = { d_in: D, d_sae: S, k, batch: B, ...(dOut ? { d_out: dOut } : {}), ...plan };
  measured[c.name] = ours;
  if (dOut && measured["train.topk"]) {
    params.ratio_vs_topk = Number((ours / measured["train.topk"]).toFixed(2));
    console.error(`${c.name}: ours ${ours} tokens/s, ${params.ratio_vs_topk}× train.topk (${measured["train.topk"]})`);
  }
  if (c.memory) {
    const m = t.plan.memory;
    const weightsAdam = m.weights + m.adam;
    const ratio = (bytes: number) => Number((bytes / weightsAdam).toFixed(2));
    Object.assign(params, {
      setup_s: Number(setup.toFixed(1)),
      peak_rss_mib: Math.round(peakRss() / 2 ** 20),
      device_mib: Math.round(t.deviceBytes / 2 ** 20),
      budget_mib: Math.round(m.total / 2 ** 20),
      weights_adam_mib: Math.round(weightsAdam / 2 ** 20),
      peak_over_weights_adam: ratio(peakRss()),
      device_over_weights_adam: ratio(t.deviceBytes),
      budget_over_weights_adam: ratio(m.total),
    });
    console.error(
      `${c.name}: weights + Adam ${mib(weightsAdam)}; peak RSS ${mib(peakRss())} (${
        ratio(peakRss())
      }×), trainer device buffers ${mib(t.deviceBytes)} (${ratio(t.deviceBytes)}×), device budget ${mib(m.total)} (${
        ratio(m.total)
      }×)`,
    );
  }
  t.destroy();
  const peer = args.includes("--no-peer") || c.noPeer
    ? { skipped: c.noPeer ?? "PyTorch peer not run (--no-peer)" }
    : await runTorchPeer({ d_in: D, d_sae: S, k, batch: B, steps: c.reps });
  if ("skipped" in peer) console.error(`${c.name}: ${peer.skipped}`);
  else {
    params.peer_tokens_s = Object.fromEntries(peer.results.map((p) => [p.variant, p.tokensPerS]));
    params.ratio_vs_peer = ratios(ours, peer.results);
    console.error(`${c.name}: ours ${ours} tokens/s; ${describe(ours, peer.results)}`);
  }
  console.log(JSON.stringify({ name: c.name, params, value: ours, unit: "tokens/s" }));
}

function ratios(ours: number, peer: PeerResult[]): Record<string, number> {
  return Object.fromEntries(peer.map((p) => [p.variant, Number((ours / p.tokensPerS).toFixed(2))]));
}

function describe(ours: number, peer: PeerResult[]): string {
  return peer.map((p) => `${(ours / p.tokensPerS).toFixed(2)}× torch ${p.variant} (${p.tokensPerS})`).join(", ");
}

for (const c of CASES) if (selected(c)) await bench(c);
