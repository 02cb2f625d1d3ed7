/**
 * The TopK family's step (topk, batchtopk), sparse: only active latents carry gradient.
 *   xc = x − b_dec;  per tile pre = xc·W_enc[s] + b_enc[s] and its TopK candidates, merged over the
 *   slabs (./slab_encoder.ts; BatchTopK: per-row top `cap`, then the top k·B of the batch);
 *   x̂ = b_dec + Σ val·W_dec[idx] (sparse decode, one pass per slab);
 *   L = mean_t ‖x − x̂‖² + aux_coef·min(n_dead/aux_k, 1)·mean_t ‖ê − (x − x̂)‖²  (AuxK, ê from the
 *   top aux_k dead latents, no bias);  g_e = dvec_t·W_dec[i];  per-latent lists → gW_dec, gW_enc,
 *   gb_enc touching k rows per token;  gb_dec = Σ dvec − W_enc·gb_enc.
 * Each per-latent kernel runs once per slab on that slab's buffers (kernels/sparse: `lo`/`hi`).
 * A TopK transcoder (cfg.d_out, ./arch_transcoder.ts): x [B, d_in] is not centred (pre = x·W_enc + b_enc), the
 * decode, loss, AuxK and gradient rows are d_out wide against the target y, gW_enc reads x, gb_dec = Σ dvec,
 * and a skip transcoder adds x·W_skip to ŷ (./sparse_skip.ts).
 * matryoshka_batchtopk adds its inner prefix decodes and loss (./arch_matryoshka.ts, a pass per slab too);
 * its level rows route by the global latent index.
 */
import { type BoundKernel, rowTexturesAvailable } from "../../kernels/runtime/mod.ts";
import { createBdecGrad, createCenter } from "../../kernels/dense/mod.ts";
import { createBatchTopk, createCsc } from "../../kernels/select/mod.ts";
import { createLatentGrad, createSparseDecode, createSparseGrad, dvecRows } from "../../kernels/sparse/mod.ts";
import { createReconLoss } from "../../kernels/loss/mod.ts";
import { buildOptimizer, partAdam, streamsGradients } from "./optimizer_path.ts";
import { createSlabEncoder, type Selection } from "./slab_encoder.ts";
import type { StepContext, StepKernels } from "./step_context.ts";
import { isBatchTopk, type TrainerConfig } from "./trainer_types.ts";
import { matryoshkaKernels, matryoshkaLevels } from "./arch_matryoshka.ts";
import { skipKernels } from "./sparse_skip.ts";

/** Output slots per row of the main selection (BatchTopK keeps `cap` candidates) and of AuxK. */
export function selectionCaps(cfg: TrainerConfig): { cap: number; auxCap: number } {
  const cap = isBatchTopk(cfg.architecture) ? Math.min(cfg.d_sae, Math.ceil(cfg.k * cfg.batchTopkCap)) : cfg.k;
  return { cap, auxCap: Math.min(cfg.auxK, cfg.d_sae) };
}

export async function buildSparse(c: StepContext): Promise<StepKernels> {
  const { device, cfg, plan, store } = c;
  const { batch: B, d_in: D, d_sae: S } = cfg;
  const tc = cfg.d_out !== undefined; // a transcoder: the decoder side is d_out wide, the target y
  const O = cfg.d_out ?? D;
  const { cap, auxCap } = selectionCaps(cfg);
  const slabs = plan.slabs;
  const NE = B * cap + B * auxCap;
  const levels = matryoshkaLevels(cfg, auxCap); // Matryoshka: one gradient block of B rows per inner level
  const nDvec = dvecRows({ B, auxCap, levels });
  const idx = c.buf(NE, "idx");
  const val = c.buf(NE, "val");
  const g = c.buf(NE, "entry grad");
  const list = c.buf(NE, "latent lists");
  const start = c.buf(S + 1, "latent starts");
  const xhat = c.buf(B * O, "xhat");
  const ehat = auxCap ? c.buf(B * O, "aux ehat") : xhat;
  const dvec = c.buf(nDvec * O, "dvec");
  const rowstats = c.buf(B * 8, "rowstats");
  // Streamed (no clip, untied): one slab-sized W_enc / W_dec gradient pair reused by every slab, each
  // slab's Adam right after its gradient pass (./optimizer_path.ts); else every slab's kept.
  const streamed = streamsGradients(cfg);
  const slabGrads = (label: string, width: number) => {
    if (!streamed) return slabs.map((s, j) => c.buf(width * s.size, `${label} ${j}`));
    const one = c.buf(width * slabs[0].size, `${label} (each slab in turn)`); // slab 0 is the widest
    return slabs.map(() => one);
  };
  const grads = {
    W_enc: slabGrads("gW_enc", D),
    W_dec: slabGrads("gW_dec", O),
    b_enc: [c.buf(S, "gb_enc")],
    b_dec: [c.buf(O, "gb_dec")],
    ...(cfg.skip ? { W_skip: [c.buf(D * O, "gW_skip")] } : {}),
  };
  const P = store.params;
  const selections: Selection[] = [{ k: cap, cap, outBase: 0 }];
  if (auxCap) selections.push({ k: auxCap, cap: auxCap, outBase: B * cap, aux: true, window: cfg.deadWindow });
  const enc = await createSlabEncoder(device, {
    slabs,
    chunks: plan.chunks,
    D,
    x: c.x,
    b_dec: P.b_dec[0],
    subtract: !tc,
    W_enc: P.W_enc,
    b_enc: P.b_enc[0],
    since: c.since,
    state: c.state,
    idx,
    val,
    selections,
  });
  c.own(enc);
  // Row textures (fast texel gathers, kernels/runtime/row_texture.ts), refreshed once per step and shared;
  // xc's comes from the encoder GEMM's packed input when one chunk holds the batch.
  // A transcoder's xc is x itself (no centring); its W_dec rows and dvec are d_out wide.
  const texOk = rowTexturesAvailable(device, D) && rowTexturesAvailable(device, O);
  // W_dec's: one slab, refreshed once per step; several, one slab-sized texture refilled before each
  // slab's pass (three copies of W_dec per step instead of keeping a d_sae × d_in texture).
  const shared = slabs.length > 1;
  const wTex = texOk
    ? c.tex(slabs[0].size, O, `W_dec rows${shared ? " (each slab in turn)" : ""}`, P.W_dec[0])
    : undefined;
  const wLoad = (j: number): BoundKernel[] =>
    wTex && shared
      ? [{ label: `copy W_dec rows ${j}`, encode: (e) => wTex.texture.encodeCopy(e, P.W_dec[j], slabs[j].size) }]
      : [];
  const dvecTex = texOk ? c.tex(nDvec, O, "dvec rows", dvec) : undefined;
  const fusedXc = texOk ? enc.xcTexture : undefined;
  const xc = fusedXc ? c.buf(4, "xc (in texture)") : tc ? c.x : c.buf(B * D, "xc");
  const xcTex = fusedXc ? { texture: fusedXc, copy: undefined } : texOk ? c.tex(B, D, "xc rows", xc) : undefined;
  const fwd: BoundKernel[] = [...enc.mainKernels];
  const step: BoundKernel[] = [...enc.kernels];
  if (!fusedXc && !tc) step.push((await createCenter(device, { B, D }))({ x: c.x, b_dec: P.b_dec[0], xc }));
  if (wTex && !shared) {
    fwd.push(wTex.copy);
    step.push(wTex.copy);
  }
  if (xcTex?.copy) step.push(xcTex.copy);
  if (isBatchTopk(cfg.architecture)) {
    const bt = (await createBatchTopk(device, { n: B * cap, kTotal: cfg.k * B, emaDecay: cfg.thresholdDecay }))({
      idx,
      val,
      state: c.state,
    });
    fwd.push(bt.select);
    step.push(bt.select, bt.ema);
  }
  // x̂ (and ê): one pass per slab, each adding its latents' rows.
  const decode = async (aux: boolean, out: GPUBuffer) => {
    const passes: BoundKernel[] = [];
    for (const [j, s] of slabs.entries()) {
      const dims = aux
        ? { cap: auxCap, entryBase: B * cap, bias: false, stats: false, auxBound: true }
        : { cap, stats: j === 0 };
      const k = await createSparseDecode(device, {
        rows: B,
        D: O,
        ...dims,
        lo: s.start,
        hi: s.start + s.size,
        accumulate: j > 0,
      });
      passes.push(
        ...wLoad(j),
        k({
          idx,
          val,
          W_dec: P.W_dec[j],
          b_dec: P.b_dec[0],
          out,
          rowstats,
          state: c.state,
          W_decTex: wTex?.texture,
        }),
      );
    }
    return passes;
  };
  // the main and the AuxK reconstruction losses read and write the same buffers
  const lossBuffers = { x: tc ? c.y : c.x, xhat, ehat, state: c.state, hyper: c.hyper, dvec, rowstats };
  const loss = (await createReconLoss(device, { B, D: O }))(lossBuffers);
  const dec = await decode(false, xhat);
  const skip = cfg.skip ? skipKernels(c, xhat, dvec, grads.W_skip![0]) : undefined;
  if (skip) dec.push(skip.forward);
  fwd.push(...dec, loss);
  step.push(...dec, loss);
  if (levels) {
    const b = { idx, val, W_dec: P.W_dec, b_dec: P.b_dec[0], dvec, rowstats };
    const tex = wTex ? { W_decTex: wTex.texture, load: wLoad } : undefined;
    const inner = await matryoshkaKernels(c, b, levels, cap, slabs, tex);
    fwd.push(...inner);
    step.push(...inner);
  }
  if (auxCap) {
    step.push(...await decode(true, ehat));
    step.push((await createReconLoss(device, { B, D: O, aux: true, auxK: cfg.auxK }))(lossBuffers));
  }
  if (dvecTex) step.push(dvecTex.copy);
  for (const [j, s] of slabs.entries()) {
    const sg = await createSparseGrad(device, {
      B,
      D: O,
      cap,
      auxCap,
      auxBound: true,
      lo: s.start,
      hi: s.start + s.size,
      levels,
    });
    step.push(
      ...wLoad(j),
      sg({ idx, dvec, W_dec: P.W_dec[j], g, state: c.state, dvecTex: dvecTex?.texture, W_decTex: wTex?.texture }),
    );
  }
  const csc = await createCsc(device, { B, S, cap, auxCap, auxBound: true, chunk: plan.cscChunk });
  step.push(csc({ idx, start, list, state: c.state }));
  // Per slab: its latents' gradients, its share of gb_dec (reads W_enc before its update), and when
  // streamed its W_enc / W_dec Adam, so the next slab may reuse the gradient buffers.
  for (const [j, s] of slabs.entries()) {
    const lg = await createLatentGrad(device, { B, D: O, DX: D, S: s.size, cap, auxCap, lo: s.start, levels });
    step.push(lg({
      list,
      start,
      val,
      g,
      dvec,
      xc,
      gW_dec: grads.W_dec[j],
      gW_enc: grads.W_enc[j],
      gb_enc: grads.b_enc[0],
      since: c.since,
      dvecTex: dvecTex?.texture,
      xcTex: xcTex?.texture,
    }));
    // b_dec is in every level's reconstruction: D_0 (the first inner block) sums all their gradients.
    // A transcoder's b_dec is only on the output side: gb_dec = Σ_t dvec, one pass without the encoder term.
    const row0 = levels ? levels.innerBase * B : 0;
    if (!tc || j === 0) {
      const bd = await createBdecGrad(device, { B, D: O, S: tc ? 0 : s.size, lo: s.start, accumulate: j > 0, row0 });
      step.push(bd({ dvec, W_enc: P.W_enc[j], gb_enc: grads.b_enc[0], gb_dec: grads.b_dec[0] }));
    }
    if (streamed) {
      const project = cfg.normalizeDecoder;
      step.push(await partAdam(c, "W_enc", j, grads.W_enc[j], project));
      step.push(await partAdam(c, "W_dec", j, grads.W_dec[j], project));
    }
  }
  if (skip) step.push(skip.grad);
  // the inner levels' loss rides in the penalty slot
  const opt = await buildOptimizer(c, grads, rowstats, { penalty: !!levels, aux: auxCap > 0, streamed });
  step.push(...opt.project, ...opt.out);
  fwd.push(opt.val);
  // streamed over several slabs, the W_enc / W_dec buffers hold only the last slab's gradient
  const { W_enc: _e, W_dec: _d, ...vectors } = grads;
  const kept = streamed && shared ? vectors : grads;
  return { step, forward: fwd, grads: kept, rowstats, entries: { idx, val }, retie: opt.retie };
}
