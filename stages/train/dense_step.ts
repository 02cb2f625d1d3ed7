/** The standard / jumprelu training step: dense activation and GEMMs for the decoder and every gradient. */
import { createGemm } from "../../kernels/gemm/mod.ts";
import type { BoundKernel } from "../../kernels/runtime/mod.ts";
import { createBdecGrad, createDenseAct } from "../../kernels/dense/mod.ts";
import { createReconLoss } from "../../kernels/loss/mod.ts";
import { createDecoderNorm } from "../../kernels/optim/mod.ts";
import type { ParamName } from "./trainer_config.ts";
import { type BuiltStep, plainEncoder, type StepContext } from "./step_context.ts";
import { optimizerStep } from "./optimizer_step.ts";

/** The standard / jumprelu step (dense GEMMs throughout): kernels of a training step and of a forward pass. */
export async function buildDenseStep(c: StepContext): Promise<BuiltStep> {
  const { device, cfg } = c;
  const { batch: B, d_in: D, d_sae: S } = cfg;
  const jump = cfg.architecture === "jumprelu";
  const pre = c.buf(B * S, "pre");
  const z = c.buf(B * S, "z");
  const dz = c.buf(B * S, "dz");
  const xc = c.buf(B * D, "xc");
  const xhat = c.buf(B * D, "xhat");
  const dvec = c.buf(B * D, "dvec");
  const rowstats = c.buf(B * 8, "rowstats");
  const wnorm = c.buf(S, "wnorm");
  const zsum = c.buf(S, "zsum");
  const grads: Partial<Record<ParamName, GPUBuffer>> = {
    W_enc: c.buf(D * S, "gW_enc"),
    W_dec: c.buf(S * D, "gW_dec"),
    b_enc: c.buf(S, "gb_enc"),
    b_dec: c.buf(D, "gb_dec"),
  };
  const glog = c.buf(S, "glog");
  if (jump) grads.log_threshold = glog;
  const { center, encoder } = await plainEncoder(c, pre, xc);
  const dn = (await createDecoderNorm(device, { D, S, B }))({
    W_dec: c.params.W_dec,
    gW_dec: grads.W_dec!,
    wnorm,
    zsum,
    hyper: c.hyper,
  });
  const act = (await createDenseAct(device, { B, S, jump, bandwidth: cfg.bandwidth }))({
    pre,
    z,
    dz,
    log_thr: c.params.log_threshold,
    wnorm,
    hyper: c.hyper,
    gb_enc: grads.b_enc!,
    zsum,
    glog,
    since: c.since,
    rowstats,
  });
  const decode = createGemm(device, { M: B, K: S, N: D, bias: true });
  const dec: BoundKernel = {
    encode: (e) => decode.encode(e, { a: z, b: c.params.W_dec, bias: c.params.b_dec, out: xhat }),
  };
  const loss = (await createReconLoss(device, { B, D }))({
    x: c.x,
    xhat,
    ehat: xhat,
    state: c.state,
    hyper: c.hyper,
    dvec,
    rowstats,
  });
  const dzGemm = createGemm(device, { M: B, K: D, N: S, transB: true });
  const gDecGemm = createGemm(device, { M: S, K: B, N: D, transA: true });
  const gEncGemm = createGemm(device, { M: D, K: B, N: S, transA: true });
  const bd = (await createBdecGrad(device, { B, D, S }))({
    dvec,
    W_enc: c.params.W_enc,
    gb_enc: grads.b_enc!,
    gb_dec: grads.b_dec!,
  });
  const fwd: BoundKernel[] = [center, encoder, dn.norms, act.forward, dec, loss];
  const step: BoundKernel[] = [...fwd];
  step.push(
    { encode: (e) => dzGemm.encode(e, { a: dvec, b: c.params.W_dec, out: dz }) },
    { encode: (e) => gDecGemm.encode(e, { a: z, b: dvec, out: grads.W_dec! }) },
    act.stats,
    act.backward,
    { encode: (e) => gEncGemm.encode(e, { a: xc, b: dz, out: grads.W_enc! }) },
    bd,
  );
  if (!jump && dn.l1Grad) step.push(dn.l1Grad);
  const opt = await optimizerStep(c, grads, rowstats, true);
  if (opt.project) step.push(opt.project);
  step.push(...opt.out);
  fwd.push(opt.val);
  return { steps: step, forward: fwd, grads };
}
