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
 * b_gate lives in the trainer's b_enc buffer. The f and ReLU(π_gate) rows are stacked ([2·rows, w] per tile of
 * ./dense_tiles.ts) so one GEMM decodes both and one GEMM back-propagates both residuals (kernels/dense/gated_act.wgsl).
 */
import type { BoundKernel } from "../../kernels/runtime/mod.ts";
import { createCenter, createGatedAct } from "../../kernels/dense/mod.ts";
import { createReconLoss } from "../../kernels/loss/mod.ts";
import { denseTiles, slabBdecGrad, slabDecoderNorms } from "./dense_tiles.ts";
import { buildOptimizer } from "./optimizer_path.ts";
import type { GradParts } from "./param_store.ts";
import { asParts, type StepContext, type StepKernels } from "./step_context.ts";

export async function buildGated(c: StepContext): Promise<StepKernels> {
  const { device, cfg, plan } = c;
  const p = c.store.params;
  const { batch: B, d_in: D, d_sae: S } = cfg;
  // Tiles (./dense_tiles.ts, stack 2): pre = π_gate, z = [f; ReLU(π_gate)], dz = [df; da → du];
  // xhat, dvec = [x̂; x̂_gate] and their gradients; zsum: the gate sums; b_enc's gradient is b_gate's.
  const xc = c.buf(B * D, "xc");
  const xhat = c.buf(2 * B * D, "xhat");
  const dvec = c.buf(2 * B * D, "dvec");
  const rowstats = c.buf(B * 8, "rowstats");
  const wnorm = c.buf(S, "wnorm");
  const zsum = c.buf(S, "zsum");
  const gsum = c.buf(S, "du sum");
  const g = {
    W_enc: plan.slabs.map((s, j) => c.buf(D * s.size, `gW_enc ${j}`)),
    W_dec: plan.slabs.map((s, j) => c.buf(s.size * D, `gW_dec ${j}`)),
    b_enc: c.buf(S, "gb_enc"),
    b_dec: c.buf(D, "gb_dec"),
    r_mag: c.buf(S, "gr_mag"),
    b_mag: c.buf(S, "gb_mag"),
  };
  const packed = {
    r_mag: p.r_mag[0],
    b_gate: p.b_enc[0],
    b_mag: p.b_mag[0],
    wnorm,
    hyper: c.hyper,
    rowstats,
    gb_gate: g.b_enc,
    gb_mag: g.b_mag,
    gr_mag: g.r_mag,
    gsum,
    zsum,
    since: c.since,
    lat: c.buf(4 * S, "gated packed inputs"),
    lgrad: c.buf(5 * S, "gated packed outputs"),
  };
  let pack: { pack: BoundKernel; unpack: BoundKernel } | undefined;
  // Both residuals through W_decᵀ at once: [df; da] = [dvec; dvec_gate]·W_decᵀ. The decoder gradients
  // read both halves ([f; a]ᵀ·[dvec; dvec_gate]), or only the f rows when the gate path's decoder is frozen.
  const tiles = await denseTiles(c, {
    stack: 2,
    xc,
    xhat,
    dvec,
    decFirstOnly: cfg.gatedFrozenDecoder,
    gW_enc: g.W_enc,
    gW_dec: g.W_dec,
    act: async (tile, width, tb) => {
      const make = (rowStats: boolean) => createGatedAct(device, { B, S: width, SA: S, tile: { ...tile, rowStats } });
      const [main, again] = [(await make(true))({ ...packed, ...tb }), (await make(false))({ ...packed, ...tb })];
      pack ??= main;
      return { forward: main.forward, recompute: again.forward, backward: [main.backward] };
    },
  });
  const center = (await createCenter(device, { B, D }))({ x: c.x, b_dec: p.b_dec[0], xc });
  const dn = await slabDecoderNorms(c, { wnorm, zsum, gW_dec: g.W_dec });
  const lossBufs = { x: c.x, xhat, ehat: xhat, state: c.state, hyper: c.hyper, dvec, rowstats };
  const loss = (await createReconLoss(device, { B, D }))(lossBufs);
  const gateLoss = (await createReconLoss(device, { B, D, gateAux: true }))(lossBufs);
  const forward: BoundKernel[] = [center, ...dn.norms, pack!.pack, ...tiles.forward, loss];
  const steps = [...forward, gateLoss, ...tiles.backward, pack!.unpack];
  const decRows = cfg.gatedFrozenDecoder ? B : 2 * B;
  steps.push(...await slabBdecGrad(c, { rows: decRows, dvec, gb_enc: gsum, gb_dec: g.b_dec }), ...dn.l1Grad);
  const parts: GradParts = { ...asParts({ b_enc: g.b_enc, b_dec: g.b_dec, r_mag: g.r_mag, b_mag: g.b_mag }) };
  parts.W_enc = g.W_enc;
  parts.W_dec = g.W_dec;
  const opt = await buildOptimizer(c, parts, rowstats, { penalty: true, aux: false, gateAux: true });
  steps.push(...opt.project, ...opt.out);
  forward.push(opt.val);
  return { step: steps, forward, grads: parts, rowstats, retie: opt.retie };
}
