/**
 * The dense step (standard, jumprelu): z = ReLU(pre) or JumpReLU; x̂ = z·W_dec + b_dec and the backward
 * through dense GEMMs; penalty l1·Σ z_i‖W_dec_i‖ (standard) or l0·Σ H(pre − θ) (jumprelu, STE).
 * It keeps `batch × d_sae` whole: the slab plan (./slab_plan.ts) refuses configs that would split it.
 * Variants on the same kernels: gated (./arch_gated.ts), transcoders (./arch_transcoder.ts).
 */
import { createGemm } from "../../kernels/gemm/mod.ts";
import type { BoundKernel } from "../../kernels/runtime/mod.ts";
import { createBdecGrad, createCenter, createDenseAct } from "../../kernels/dense/mod.ts";
import { createReconLoss } from "../../kernels/loss/mod.ts";
import { createDecoderNorm } from "../../kernels/optim/mod.ts";
import { createEncoderGemm } from "../../kernels/gemm/mod.ts";
import type { GradParts } from "./param_store.ts";
import type { ParamName } from "./trainer_types.ts";
import { buildOptimizer } from "./optimizer_path.ts";
import type { StepContext, StepKernels } from "./step_context.ts";

export async function buildDense(c: StepContext): Promise<StepKernels> {
  const { device, cfg } = c;
  const { batch: B, d_in: D, d_sae: S } = cfg;
  const jump = cfg.architecture === "jumprelu";
  // One slab (the plan guarantees it): each parameter is its single part.
  const P = c.store.whole();
  const { pre, z, dz, xhat, dvec, rowstats, wnorm, zsum, grads: g } = denseBuffers(c, B, D);
  const xc = c.buf(B * D, "xc");
  const glog = c.buf(S, "glog");
  const grads: GradParts = { W_enc: [g.W_enc], W_dec: [g.W_dec], b_enc: [g.b_enc], b_dec: [g.b_dec] };
  if (jump) grads.log_threshold = [glog];
  const { center, encoder } = await centerEncoder(c, P, pre, xc);
  const { dn, act } = await denseActivation(c, P, { pre, z, dz, rowstats, wnorm, zsum, grads: g }, glog, D);
  const gemm = (spec: Parameters<typeof createGemm>[1]) => {
    const k = createGemm(device, spec);
    c.own(k);
    return k;
  };
  const decode = gemm({ M: B, K: S, N: D, bias: true });
  const dec: BoundKernel = { encode: (e) => decode.encode(e, { a: z, b: P.W_dec, bias: P.b_dec, out: xhat }) };
  const loss = (await createReconLoss(device, { B, D }))({
    x: c.x,
    xhat,
    ehat: xhat,
    state: c.state,
    hyper: c.hyper,
    dvec,
    rowstats,
  });
  const dzGemm = gemm({ M: B, K: D, N: S, transB: true });
  const gDecGemm = gemm({ M: S, K: B, N: D, transA: true });
  const gEncGemm = gemm({ M: D, K: B, N: S, transA: true });
  const bd = (await createBdecGrad(device, { B, D, S }))({ dvec, W_enc: P.W_enc, gb_enc: g.b_enc, gb_dec: g.b_dec });
  const fwd: BoundKernel[] = [center, encoder, dn.norms, act.forward, dec, loss];
  const step: BoundKernel[] = [...fwd];
  step.push(
    { encode: (e) => dzGemm.encode(e, { a: dvec, b: P.W_dec, out: dz }) },
    { encode: (e) => gDecGemm.encode(e, { a: z, b: dvec, out: g.W_dec }) },
    act.stats,
    act.backward,
    { encode: (e) => gEncGemm.encode(e, { a: xc, b: dz, out: g.W_enc }) },
    bd,
  );
  if (!jump && dn.l1Grad) step.push(dn.l1Grad);
  const opt = await buildOptimizer(c, grads, rowstats, { penalty: true, aux: false });
  step.push(...opt.project, ...opt.out);
  fwd.push(opt.val);
  return { step, forward: fwd, grads, rowstats, retie: opt.retie };
}

/**
 * The dense step's buffers (shared with ./arch_gated.ts and ./arch_transcoder.ts): pre [B, S]; latents z and
 * their gradient dz [rows, S]; reconstruction and its gradient [rows, out]; rowstats [B, 8]; per-latent decoder
 * norms and sums [S]; the gradients of W_enc, W_dec ([S, out]), b_enc, b_dec ([out]).
 */
export function denseBuffers(c: StepContext, rows: number, out: number) {
  const { batch: B, d_in: D, d_sae: S } = c.cfg;
  return {
    pre: c.buf(B * S, "pre"),
    z: c.buf(rows * S, "z"),
    dz: c.buf(rows * S, "dz"),
    xhat: c.buf(rows * out, "xhat"),
    dvec: c.buf(rows * out, "dvec"),
    rowstats: c.buf(B * 8, "rowstats"),
    wnorm: c.buf(S, "wnorm"),
    zsum: c.buf(S, "zsum"),
    grads: {
      W_enc: c.buf(D * S, "gW_enc"),
      W_dec: c.buf(S * out, "gW_dec"),
      b_enc: c.buf(S, "gb_enc"),
      b_dec: c.buf(out, "gb_dec"),
    } as Partial<Record<ParamName, GPUBuffer>> & Record<"W_enc" | "W_dec" | "b_enc" | "b_dec", GPUBuffer>,
  };
}

/** Decoder-row norms (kernels/optim/decoder_norm.ts, rows of `out`) and the ReLU / JumpReLU activation. */
export async function denseActivation(
  c: StepContext,
  P: Record<ParamName, GPUBuffer>,
  b: Omit<ReturnType<typeof denseBuffers>, "xhat" | "dvec">,
  glog: GPUBuffer,
  out: number,
) {
  const { batch: B, d_sae: S } = c.cfg;
  const jump = c.cfg.architecture === "jumprelu";
  const { wnorm, zsum, hyper } = { ...b, hyper: c.hyper };
  const dn = (await createDecoderNorm(c.device, { D: out, S, B }))({
    W_dec: P.W_dec,
    gW_dec: b.grads.W_dec,
    wnorm,
    zsum,
    hyper,
  });
  const act = (await createDenseAct(c.device, { B, S, jump, bandwidth: c.cfg.bandwidth }))({
    pre: b.pre,
    z: b.z,
    dz: b.dz,
    log_thr: P.log_threshold,
    wnorm,
    hyper,
    gb_enc: b.grads.b_enc,
    zsum,
    glog,
    since: c.since,
    rowstats: b.rowstats,
  });
  return { dn, act };
}

/** xc = x − b_dec into `xc` and pre = xc·W_enc + b_enc into `pre` (one slab's whole buffers). */
export async function centerEncoder(
  c: StepContext,
  P: Record<ParamName, GPUBuffer>,
  pre: GPUBuffer,
  xc: GPUBuffer,
): Promise<{ center: BoundKernel; encoder: BoundKernel }> {
  const { batch: B, d_in: D, d_sae: S } = c.cfg;
  const center = (await createCenter(c.device, { B, D }))({ x: c.x, b_dec: P.b_dec, xc });
  const enc = createEncoderGemm(c.device, { M: B, K: D, N: S });
  c.own(enc);
  const encoder: BoundKernel = {
    label: "encoder gemm",
    encode: (e) => enc.encode(e, { x: xc, W: P.W_enc, bias: P.b_enc, out: pre }),
  };
  return { center, encoder };
}
