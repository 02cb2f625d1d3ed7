/**
 * The gated SAE's training step (Rajamanoharan et al. 2024, "Improving Dictionary Learning with Gated
 * Sparse Autoencoders"; SAELens GatedTrainingSAE), dense on the GPU:
 *   xc = x − b_dec;  π_gate = xc·W_enc + b_gate;  π_mag = e^{r_mag}·(xc·W_enc) + b_mag
 *   f = [π_gate > 0]·ReLU(π_mag);  x̂ = f·W_dec + b_dec
 *   L = mean_t ‖x − x̂‖² + l1·mean_t Σ_i ReLU(π_gate)_ti·‖W_dec_i‖ + mean_t ‖x − (ReLU(π_gate)·W_dec + b_dec)‖²
 * The last (auxiliary) term reconstructs x from the gate path. As SAELens, its gradient reaches the
 * decoder; with `gatedFrozenDecoder` it does not (the paper's frozen copy of W_dec and b_dec: the term
 * trains only the gate; b_dec keeps its encoder-side gradient). The frozen variant needs unit-norm
 * decoder rows: with free norms the L1 term shrinks the rows at no cost to the magnitude path (r_mag
 * grows) while nothing but the frozen term resists, and the gate collapses. Even with unit rows the frozen
 * variant did not recover the synthetic dictionary of tests/train/recovery_test.ts in a short l1 sweep
 * (2, 4, 10: the gate path never learned to reconstruct), so it stays an experimental option.
 * b_gate lives in the trainer's b_enc buffer. The f and ReLU(π_gate) rows are stacked [2B, S] so one
 * GEMM decodes both and one GEMM back-propagates both residuals (kernels/dense/gated_act.wgsl).
 */
import { checkBinding } from "../../kernels/runtime/mod.ts";
import { createBdecGrad, createGatedAct } from "../../kernels/dense/mod.ts";
import { createReconLoss } from "../../kernels/loss/mod.ts";
import { createDecoderNorm } from "../../kernels/optim/mod.ts";
import { centerEncoder, denseBuffers } from "./dense_path.ts";
import { buildOptimizer } from "./optimizer_path.ts";
import { asParts, gemmKernel, type StepContext, type StepKernels } from "./step_context.ts";

export async function buildGated(c: StepContext): Promise<StepKernels> {
  const { device, cfg } = c;
  const p = c.store.whole(); // one slab: the trainer rejects a split plan for gated
  const { batch: B, d_in: D, d_sae: S } = cfg;
  checkBinding(device, 2 * B * S * 4, "train: gated latents (2 × batch_size × d_sae f32)");
  // pre = π_gate; z = [f; ReLU(π_gate)], dz = [df; da → du]; xhat, dvec = [x̂; x̂_gate] and their gradients;
  // zsum: the gate sums; b_enc's gradient is b_gate's.
  const { pre, z, dz, xhat, dvec, rowstats, wnorm, zsum, grads: g } = denseBuffers(c, 2 * B, D);
  const xc = c.buf(B * D, "xc");
  const gsum = c.buf(S, "du sum");
  const grads = { ...g, r_mag: c.buf(S, "gr_mag"), b_mag: c.buf(S, "gb_mag") };
  const { center, encoder } = await centerEncoder(c, p, pre, xc);
  const dn = (await createDecoderNorm(device, { D, S, B }))({
    W_dec: p.W_dec,
    gW_dec: grads.W_dec,
    wnorm,
    zsum,
    hyper: c.hyper,
  });
  const act = (await createGatedAct(device, { B, S }))({
    pre,
    r_mag: p.r_mag,
    b_gate: p.b_enc,
    b_mag: p.b_mag,
    wnorm,
    hyper: c.hyper,
    z,
    dz,
    rowstats,
    gb_gate: grads.b_enc,
    gb_mag: grads.b_mag,
    gr_mag: grads.r_mag,
    gsum,
    zsum,
    since: c.since,
    lat: c.buf(4 * S, "gated packed inputs"),
    lgrad: c.buf(5 * S, "gated packed outputs"),
  });
  const decode = gemmKernel(c, { M: 2 * B, K: S, N: D, bias: true }, {
    a: z,
    b: p.W_dec,
    bias: p.b_dec,
    out: xhat,
  }, "decode f and the gate path");
  const lossBufs = { x: c.x, xhat, ehat: xhat, state: c.state, hyper: c.hyper, dvec, rowstats };
  const loss = (await createReconLoss(device, { B, D }))(lossBufs);
  const gateLoss = (await createReconLoss(device, { B, D, gateAux: true }))(lossBufs);
  // Both residuals through W_decᵀ at once: [df; da] = [dvec; dvec_gate]·W_decᵀ. The decoder gradients
  // read both halves ([f; a]ᵀ·[dvec; dvec_gate]), or only the first B rows when the gate path's decoder is frozen.
  const decRows = cfg.gatedFrozenDecoder ? B : 2 * B;
  const back = gemmKernel(c, { M: 2 * B, K: D, N: S, transB: true }, {
    a: dvec,
    b: p.W_dec,
    out: dz,
  }, "[df; da]");
  const gDec = gemmKernel(c, { M: S, K: decRows, N: D, transA: true }, {
    a: z,
    b: dvec,
    out: grads.W_dec,
  }, "gW_dec");
  const gEnc = gemmKernel(c, { M: D, K: B, N: S, transA: true }, {
    a: xc,
    b: dz,
    out: grads.W_enc,
  }, "gW_enc");
  const bd = (await createBdecGrad(device, { B: decRows, D, S }))({
    dvec,
    W_enc: p.W_enc,
    gb_enc: gsum,
    gb_dec: grads.b_dec,
  });
  const forward = [center, encoder, dn.norms, act.pack, act.forward, decode, loss];
  const steps = [...forward, gateLoss, back, gDec, act.backward, act.unpack, gEnc, bd, dn.l1Grad!];
  const parts = asParts(grads);
  const opt = await buildOptimizer(c, parts, rowstats, { penalty: true, aux: false, gateAux: true });
  steps.push(...opt.project, ...opt.out);
  forward.push(opt.val);
  return { step: steps, forward, grads: parts, rowstats, retie: opt.retie };
}
