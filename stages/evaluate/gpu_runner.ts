/**
 * The SAE encoder on WebGPU for evaluation: pre = (x − b_dec)·W_enc + b_enc with the trainer's GEMM
 * kernel, then the sparse codes straight from the device: TopK through the trainer's slab encoder
 * (stages/train/slab_encoder.ts: d_sae split into latent slabs and rows into chunks as one storage
 * binding requires, so any width that fits in memory evaluates; pre never exists whole), the ReLU family
 * (standard, jumprelu, batchtopk saved with a threshold, gated in its JumpReLU form from
 * stages/train/sae_cpu.ts) with `threshold_compact.wgsl`, slab by slab over the same latent slabs
 * (each slab's pre [rows, w] its own buffer, the codes appended slab after slab), so a wide dense SAE
 * evaluates too.
 * Only the codes (rows × k, or rows × CAP) come back to the host, never the dense pre-activations
 * (except for the rare row with more than CAP firing latents, recomputed on the host from its pre row).
 */
import { createBuffer, getDevice, readF32, readU32, uploadBuffer, writeBuffer } from "../../kernels/runtime/device.ts";
import { createEncoderGemm } from "../../kernels/gemm/mod.ts";
import { type BoundKernel, compileKernel, INVALID } from "../../kernels/runtime/kernel.ts";
import { splitParam } from "../train/param_store.ts";
import { createSlabEncoder } from "../train/slab_encoder.ts";
import { planSlabs } from "../train/slab_plan.ts";
import type { SaeConfig, SaeWeights } from "../train/sae_cpu.ts";
import type { SaeRunner } from "./sae_runner.ts";
import type { SparseCodes } from "./sparse_codes.ts";

const COMPACT_URL = new URL("./threshold_compact.wgsl", import.meta.url);

const f32 = (v: Float32Array | Float64Array) => (v instanceof Float32Array ? v : Float32Array.from(v));

/**
 * A GPU runner for batches of at most `maxRows` rows (the ReLU family: capped so that its pre slabs,
 * rows × d_sae in all, hold no more than one binding, and at least one row). `bindingLimit` (tests):
 * plan the slabs as if a binding held that many bytes.
 */
export async function gpuRunner(
  weights: SaeWeights,
  cfg: SaeConfig,
  maxRows: number,
  cap = 256,
  bindingLimit?: number,
): Promise<SaeRunner> {
  const device = await getDevice();
  const { d_in: dIn, d_sae: dSae } = cfg;
  // transcoders encode as their activation does (the input side has no b_dec: apply_b_dec_to_input false)
  const topk = ["topk", "topk_transcoder", "topk_skip_transcoder"].includes(cfg.architecture);
  const binding = Math.min(device.limits.maxStorageBufferBindingSize, bindingLimit ?? Infinity);
  const rows = Math.max(1, Math.min(maxRows, Math.floor(binding / ((topk ? dIn : dSae) * 4))));
  // (the ReLU family plans with one chunk: rows × w ≤ rows × d_sae ≤ one binding, or one row)
  const width = topk ? cfg.k! : Math.min(cap, dSae);
  const jump = ["jumprelu", "batchtopk", "gated", "jumprelu_transcoder"].includes(cfg.architecture);
  if (jump && !weights.threshold) throw new Error(`${cfg.architecture} SAE needs a threshold tensor`);

  const own: { destroy(): void }[] = [];
  const keep = (b: GPUBuffer) => (own.push(b), b);
  const plan = planSlabs(
    { d_in: dIn, d_sae: dSae, batch: rows, cap: topk ? cfg.k! : 0, auxCap: 0, sparse: topk, denseStack: 1 },
    binding,
  );
  const slabs = plan.slabs;
  const W = splitParam("W_enc", f32(weights.W_enc), dIn, dSae, slabs).map((p, j) =>
    keep(uploadBuffer(device, p, `W_enc ${j}`))
  );
  const bEnc = keep(uploadBuffer(device, f32(weights.b_enc), "b_enc"));
  const bDec = keep(uploadBuffer(device, f32(weights.b_dec), "b_dec"));
  const x = keep(createBuffer(device, rows * dIn * 4, "x"));
  const pre = topk ? [] : slabs.map((s, j) => keep(createBuffer(device, rows * s.size * 4, `pre ${j}`)));
  const idx = keep(createBuffer(device, rows * width * 4, "idx"));
  const val = keep(createBuffer(device, rows * width * 4, "val"));
  const count = keep(createBuffer(device, rows * 4, "count"));
  const thr = keep(uploadBuffer(device, jump ? f32(weights.threshold!) : new Float32Array(1), "threshold"));
  const subtract = cfg.apply_b_dec_to_input !== false;
  let kernels: BoundKernel[];
  if (topk) {
    const enc = await createSlabEncoder(device, {
      slabs,
      chunks: plan.chunks,
      D: dIn,
      x,
      b_dec: bDec,
      subtract,
      W_enc: W,
      b_enc: bEnc,
      since: keep(createBuffer(device, 16, "since")),
      state: keep(createBuffer(device, 16, "state")),
      idx,
      val,
      selections: [{ k: cfg.k!, cap: cfg.k!, outBase: 0 }],
    });
    own.push(enc);
    kernels = enc.kernels;
  } else {
    kernels = [];
    const bEncPart = f32(weights.b_enc);
    for (const [j, s] of slabs.entries()) {
      const gemm = createEncoderGemm(device, { M: rows, K: dIn, N: s.size }, { subtractInput: subtract });
      own.push(gemm);
      const bias = slabs.length > 1
        ? keep(uploadBuffer(device, bEncPart.subarray(s.start, s.start + s.size), `b_enc ${j}`))
        : bEnc;
      const dims = { ROWS: rows, S: s.size, CAP: width, JUMP: jump, LO: s.start, APPEND: j > 0 };
      const compact = (await compileKernel(device, COMPACT_URL, "main", dims))
        .bind({ pre: pre[j], thr, out_idx: idx, out_val: val, count }, rows);
      kernels.push({ encode: (e) => gemm.encode(e, { x, W: W[j], bias, sub: bDec, out: pre[j] }) }, compact);
    }
  }

  return {
    dIn,
    dSae,
    maxRows: rows,
    async encode(xs: Float32Array, n: number): Promise<SparseCodes> {
      if (n > rows) throw new Error(`gpu runner: batch of ${n} rows exceeds its ${rows}`);
      if (xs.length !== n * dIn) throw new Error(`gpu runner: x has ${xs.length} values, expected ${n} × ${dIn}`);
      device.pushErrorScope("validation");
      writeBuffer(device, x, xs);
      const enc = device.createCommandEncoder();
      for (const k of kernels) k.encode(enc);
      device.queue.submit([enc.finish()]);
      const err = await device.popErrorScope();
      if (err) throw new Error(`gpu runner: WebGPU validation error: ${err.message}`);
      const [ix, vx, cnt] = await Promise.all([
        readU32(device, idx, n * width),
        readF32(device, val, n * width),
        topk ? null : readU32(device, count, n),
      ]);
      for (let e = 0; e < ix.length; e++) if (ix[e] === INVALID) vx[e] = 0;
      if (topk) {
        const offsets = new Uint32Array(n + 1).map((_, t) => t * width);
        return { n, offsets, idx: ix, val: vx };
      }
      return await compactRows(n, ix, vx, cnt!);
    },
    dispose() {
      for (const b of own) b.destroy();
    },
  };

  /**
   * CSR from per-row slots; rows over CAP are recomputed from their pre row read back from the device
   * (safe: callers await one encode before starting the next, so `pre` still holds this batch).
   */
  async function compactRows(n: number, ix: Uint32Array, vx: Float32Array, cnt: Uint32Array): Promise<SparseCodes> {
    const offsets = new Uint32Array(n + 1);
    for (let t = 0; t < n; t++) offsets[t + 1] = offsets[t] + cnt[t];
    const oi = new Uint32Array(offsets[n]), ov = new Float32Array(offsets[n]);
    for (let t = 0; t < n; t++) {
      if (cnt[t] <= width) {
        oi.set(ix.subarray(t * width, t * width + cnt[t]), offsets[t]);
        ov.set(vx.subarray(t * width, t * width + cnt[t]), offsets[t]);
        continue;
      }
      const parts = await Promise.all(slabs.map((s, j) => readF32(device, pre[j], s.size, t * s.size * 4)));
      const p = new Float32Array(dSae);
      slabs.forEach((s, j) => p.set(parts[j], s.start));
      let e = offsets[t];
      for (let j = 0; j < dSae; j++) {
        if (p[j] > 0 && (!jump || p[j] > weights.threshold![j])) (oi[e] = j, ov[e++] = p[j]);
      }
    }
    return { n, offsets, idx: oi, val: ov };
  }
}
