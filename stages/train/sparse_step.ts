/** The TopK-family (topk, batchtopk) training step: sparse decode and gradients over active latents only. */
import type { BoundKernel } from "../../kernels/runtime/mod.ts";
import { rowTexturesAvailable } from "../../kernels/runtime/mod.ts";
import { createBdecGrad } from "../../kernels/dense/mod.ts";
import { createBatchTopk, createCsc, createTopk } from "../../kernels/select/mod.ts";
import { createLatentGrad, createSparseDecode, createSparseGrad } from "../../kernels/sparse/mod.ts";
import { createReconLoss } from "../../kernels/loss/mod.ts";
import { type BuiltStep, fusedEncoder, plainEncoder, type StepContext } from "./step_context.ts";
import { optimizerStep } from "./optimizer_step.ts";

/** The TopK-family step (the math: ./trainer.ts): kernels of a training step and of a forward pass. */
export async function buildSparseStep(c: StepContext): Promise<BuiltStep> {
  const { device, cfg, cap, auxCap } = c;
  const { batch: B, d_in: D, d_sae: S } = cfg;
  const NE = B * cap + B * auxCap;
  const idx = c.buf(NE, "idx");
  const val = c.buf(NE, "val");
  const g = c.buf(NE, "entry grad");
  const list = c.buf(NE, "latent lists");
  const start = c.buf(S + 1, "latent starts");
  const xhat = c.buf(B * D, "xhat");
  const ehat = auxCap ? c.buf(B * D, "aux ehat") : xhat;
  const dvec = c.buf((auxCap ? 2 : 1) * B * D, "dvec");
  const rowstats = c.buf(B * 8, "rowstats");
  const grads = {
    W_enc: c.buf(D * S, "gW_enc"),
    W_dec: c.buf(S * D, "gW_dec"),
    b_enc: c.buf(S, "gb_enc"),
    b_dec: c.buf(D, "gb_dec"),
  };
  // Row textures (fast texel gathers, kernels/runtime/row_texture.ts), refreshed once per step and shared.
  // Fused when the encoder GEMM runs on textures: it packs xc = x − b_dec into its A texture (read
  // as the xc rows) and writes pre straight into the pre rows, so neither center nor copies run.
  const fused = fusedEncoder(c);
  const pre = fused ? c.buf(4, "pre (in texture)") : c.buf(B * S, "pre");
  const xc = fused ? c.buf(4, "xc (in texture)") : c.buf(B * D, "xc");
  const { center, encoder } = fused ?? await plainEncoder(c, pre, xc);
  const tex = rowTexturesAvailable(device, D)
    ? {
      W_dec: c.rowTexture(S, D, "W_dec rows", c.params.W_dec),
      dvec: c.rowTexture((auxCap ? 2 : 1) * B, D, "dvec rows", dvec),
      xc: fused ? { texture: fused.xcTex, copy: undefined } : c.rowTexture(B, D, "xc rows", xc),
    }
    : undefined;
  const preTex = fused
    ? { texture: fused.preTex, copy: undefined }
    : rowTexturesAvailable(device, S)
    ? c.rowTexture(B, S, "pre rows", pre)
    : undefined;
  const sel = (await createTopk(device, { rows: B, S, k: cap, cap }))({
    pre,
    since: c.since,
    state: c.state,
    idx,
    val,
    preTex: preTex?.texture,
  });
  const fwd: BoundKernel[] = center ? [center, encoder] : [encoder];
  if (preTex?.copy) fwd.push(preTex.copy);
  fwd.push(sel);
  const step: BoundKernel[] = [...fwd];
  if (tex) {
    fwd.push(tex.W_dec.copy);
    step.push(tex.W_dec.copy);
    if (tex.xc.copy) step.push(tex.xc.copy);
  }
  if (cfg.architecture === "batchtopk") {
    const bt = (await createBatchTopk(device, { n: B * cap, kTotal: cfg.k * B, emaDecay: cfg.thresholdDecay }))({
      idx,
      val,
      state: c.state,
    });
    fwd.push(bt.select);
    step.push(bt.select, bt.ema);
  }
  const dec = (await createSparseDecode(device, { rows: B, D, cap }))({
    idx,
    val,
    W_dec: c.params.W_dec,
    b_dec: c.params.b_dec,
    out: xhat,
    rowstats,
    W_decTex: tex?.W_dec.texture,
  });
  // the main and the AuxK reconstruction losses read and write the same buffers
  const lossBuffers = { x: c.x, xhat, ehat, state: c.state, hyper: c.hyper, dvec, rowstats };
  const loss = (await createReconLoss(device, { B, D }))(lossBuffers);
  fwd.push(dec, loss);
  step.push(dec, loss);
  if (auxCap) {
    const auxSel = (await createTopk(device, {
      rows: B,
      S,
      k: auxCap,
      outBase: B * cap,
      aux: true,
      window: cfg.deadWindow,
    }))({ pre, since: c.since, state: c.state, idx, val, preTex: preTex?.texture });
    const auxDec = (await createSparseDecode(device, {
      rows: B,
      D,
      cap: auxCap,
      entryBase: B * cap,
      bias: false,
      stats: false,
      auxBound: true,
    }))({
      idx,
      val,
      W_dec: c.params.W_dec,
      b_dec: c.params.b_dec,
      out: ehat,
      rowstats,
      state: c.state,
      W_decTex: tex?.W_dec.texture,
    });
    const auxLoss = (await createReconLoss(device, { B, D, aux: true, auxK: cfg.auxK }))(lossBuffers);
    step.push(auxSel, auxDec, auxLoss);
  }
  if (tex) step.push(tex.dvec.copy);
  const sg = (await createSparseGrad(device, { B, D, cap, auxCap, auxBound: true }))({
    idx,
    dvec,
    W_dec: c.params.W_dec,
    g,
    state: c.state,
    dvecTex: tex?.dvec.texture,
    W_decTex: tex?.W_dec.texture,
  });
  const csc = (await createCsc(device, { B, S, cap, auxCap, auxBound: true }))({
    idx,
    start,
    list,
    state: c.state,
  });
  const lg = (await createLatentGrad(device, { B, D, S, cap, auxCap }))({
    list,
    start,
    val,
    g,
    dvec,
    xc,
    gW_dec: grads.W_dec,
    gW_enc: grads.W_enc,
    gb_enc: grads.b_enc,
    since: c.since,
    dvecTex: tex?.dvec.texture,
    xcTex: tex?.xc.texture,
  });
  const bd = (await createBdecGrad(device, { B, D, S }))({
    dvec,
    W_enc: c.params.W_enc,
    gb_enc: grads.b_enc,
    gb_dec: grads.b_dec,
  });
  step.push(sg, csc, lg, bd);
  const opt = await optimizerStep(c, grads, rowstats, false);
  if (opt.project) step.push(opt.project);
  step.push(...opt.out);
  fwd.push(opt.val);
  return { steps: step, forward: fwd, grads };
}
