/**
 * Transcoders and skip transcoders (Dunefsky et al. 2024; SAELens Transcoder / SkipTranscoder): an SAE
 * that reads one hook and reconstructs another, e.g. an MLP's input → its output. Dense path
 * (standard or jumprelu activation), x [B, d_in] → target y [B, d_out]:
 *   pre = x·W_enc + b_enc   (no b_dec subtraction: b_dec lives on the output side; SAELens
 *                            apply_b_dec_to_input = false)
 *   z = ReLU(pre) (standard) or JumpReLU;  ŷ = z·W_dec + b_dec (+ x·W_skip with `skip`)
 *   L = mean_t ‖y − ŷ‖² + the architecture's penalty (l1·Σ z_i‖W_dec_i‖ or l0·Σ H(pre − θ))
 * Gradients: dvec = (2/B)(ŷ − y);  dz = dvec·W_decᵀ;  gW_dec = zᵀ·dvec;  gW_enc = xᵀ·dpre;
 *   gb_dec = Σ_t dvec;  gW_skip = xᵀ·dvec.
 * Same kernels as the dense SAE step with d_out on the decoder side. TopK / BatchTopK transcoders (EleutherAI
 * sparsify's `transcode`) run on the sparse path instead (./sparse_path.ts, the same definitions with z = TopK).
 */
import { createEncoderGemm, type createGemm } from "../../kernels/gemm/mod.ts";
import { createReconLoss } from "../../kernels/loss/mod.ts";
import { writeBuffer } from "../../kernels/runtime/mod.ts";
import { buildOptimizer } from "./optimizer_path.ts";
import { asParts, gemmKernel, type StepContext, type StepKernels } from "./step_context.ts";
import type { Architecture, TrainerConfig } from "./trainer_types.ts";
import { denseActivation, denseBuffers } from "./dense_path.ts";

/** What a transcoder trains as: the dense path's standard / jumprelu, the sparse path's topk / batchtopk. */
export const TRANSCODER_ARCHITECTURES: readonly Architecture[] = ["standard", "jumprelu", "topk", "batchtopk"];

/** One-line errors for what a transcoder cannot be (topk / batchtopk train on ./sparse_path.ts). */
export function checkTranscoder(c: TrainerConfig): void {
  if (!TRANSCODER_ARCHITECTURES.includes(c.architecture)) {
    throw new Error(`train: transcoders train as ${TRANSCODER_ARCHITECTURES.join(", ")}, not ${c.architecture}`);
  }
  if (c.tiedWeights) {
    throw new Error("train: tied_weights needs a decoder back to the input; a transcoder writes another hook");
  }
  if (!(Number.isInteger(c.d_out) && c.d_out! >= 1)) {
    throw new Error(`train: transcoder d_out ${c.d_out} must be a positive integer`);
  }
}

export async function buildTranscoder(c: StepContext): Promise<StepKernels> {
  const { device, cfg } = c;
  const p = c.store.whole(); // one slab: the dense path refuses a split
  const { batch: B, d_in: D, d_sae: S } = cfg;
  const O = cfg.d_out!;
  const jump = cfg.architecture === "jumprelu";
  const { pre, z, dz, xhat: yhat, dvec, rowstats, wnorm, zsum, grads } = denseBuffers(c, B, O);
  const ones = c.buf(B, "ones");
  writeBuffer(device, ones, new Float32Array(B).fill(1));
  const glog = c.buf(S, "glog");
  if (jump) grads.log_threshold = glog;
  if (cfg.skip) grads.W_skip = c.buf(D * O, "gW_skip");
  const enc = createEncoderGemm(device, { M: B, K: D, N: S });
  c.own(enc);
  const encoder = {
    label: "encoder gemm",
    encode: (e: GPUCommandEncoder) => enc.encode(e, { x: c.x, W: p.W_enc, bias: p.b_enc, out: pre }),
  };
  const { dn, act } = await denseActivation(c, p, { pre, z, dz, rowstats, wnorm, zsum, grads }, glog, O);
  const gemm = (spec: Parameters<typeof createGemm>[1], b: Parameters<typeof gemmKernel>[2], label: string) =>
    gemmKernel(c, spec, b, label);
  const forward = [
    encoder,
    dn.norms,
    act.forward,
    gemm({ M: B, K: S, N: O, bias: true }, { a: z, b: p.W_dec, bias: p.b_dec, out: yhat }, "decode"),
  ];
  if (cfg.skip) forward.push(gemm({ M: B, K: D, N: O, accumulate: true }, { a: c.x, b: p.W_skip, out: yhat }, "skip"));
  const lossBufs = { x: c.y, xhat: yhat, ehat: yhat, state: c.state, hyper: c.hyper, dvec, rowstats };
  forward.push((await createReconLoss(device, { B, D: O }))(lossBufs));
  const steps = [
    ...forward,
    gemm({ M: B, K: O, N: S, transB: true }, { a: dvec, b: p.W_dec, out: dz }, "dz"),
    gemm({ M: S, K: B, N: O, transA: true }, { a: z, b: dvec, out: grads.W_dec! }, "gW_dec"),
    act.stats,
    act.backward,
    gemm({ M: D, K: B, N: S, transA: true }, { a: c.x, b: dz, out: grads.W_enc! }, "gW_enc"),
    gemm({ M: 1, K: B, N: O }, { a: ones, b: dvec, out: grads.b_dec! }, "gb_dec"),
  ];
  if (cfg.skip) {
    steps.push(gemm({ M: D, K: B, N: O, transA: true }, { a: c.x, b: dvec, out: grads.W_skip! }, "gW_skip"));
  }
  if (!jump && dn.l1Grad) steps.push(dn.l1Grad);
  const parts = asParts(grads);
  const opt = await buildOptimizer(c, parts, rowstats, { penalty: true, aux: false });
  steps.push(...opt.project, ...opt.out);
  forward.push(opt.val);
  return { step: steps, forward, grads: parts, rowstats };
}
