/**
 * The dense step (standard, jumprelu): z = ReLU(pre) or JumpReLU; x̂ = z·W_dec + b_dec and the backward
 * through dense GEMMs; penalty l1·Σ z_i‖W_dec_i‖ (standard) or l0·Σ H(pre − θ) (jumprelu, STE).
 * `batch × d_sae` is processed in tiles of batch chunks × latent slabs (./dense_tiles.ts), so any width
 * whose parameters fit in device memory trains. Variants on the same kernels: gated (./arch_gated.ts),
 * transcoders (./arch_transcoder.ts, still one piece: `denseBuffers`, `denseActivation`).
 */
import type { BoundKernel } from "../../kernels/runtime/mod.ts";
import { createCenter, createDenseAct } from "../../kernels/dense/mod.ts";
import { createReconLoss } from "../../kernels/loss/mod.ts";
import { createDecoderNorm } from "../../kernels/optim/mod.ts";
import type { GradParts } from "./param_store.ts";
import type { ParamName } from "./trainer_types.ts";
import { buildOptimizer } from "./optimizer_path.ts";
import { denseTiles, slabBdecGrad, slabDecoderNorms } from "./dense_tiles.ts";
import type { StepContext, StepKernels } from "./step_context.ts";

export async function buildDense(c: StepContext): Promise<StepKernels> {
  const { device, cfg, plan, store } = c;
  const { batch: B, d_in: D, d_sae: S } = cfg;
  const jump = cfg.architecture === "jumprelu";
  const P = store.params;
  const xc = c.buf(B * D, "xc");
  const xhat = c.buf(B * D, "xhat");
  const dvec = c.buf(B * D, "dvec");
  const rowstats = c.buf(B * 8, "rowstats");
  const wnorm = c.buf(S, "wnorm");
  const zsum = c.buf(S, "zsum");
  const grads: GradParts = {
    W_enc: plan.slabs.map((s, j) => c.buf(D * s.size, `gW_enc ${j}`)),
    W_dec: plan.slabs.map((s, j) => c.buf(s.size * D, `gW_dec ${j}`)),
    b_enc: [c.buf(S, "gb_enc")],
    b_dec: [c.buf(D, "gb_dec")],
  };
  const glog = c.buf(S, "glog");
  if (jump) grads.log_threshold = [glog];
  const lat = { log_thr: P.log_threshold[0], wnorm, hyper: c.hyper, gb_enc: grads.b_enc![0], zsum, glog };
  const tiles = await denseTiles(c, {
    stack: 1,
    xc,
    xhat,
    dvec,
    gW_enc: grads.W_enc!,
    gW_dec: grads.W_dec!,
    act: async (tile, width, tb) => {
      const make = (rowStats: boolean) =>
        createDenseAct(device, { B, S: width, jump, bandwidth: cfg.bandwidth, tile: { ...tile, rowStats } });
      const bufs = { ...tb, ...lat, since: c.since, rowstats };
      const [main, again] = [(await make(true))(bufs), (await make(false))(bufs)];
      return { forward: main.forward, recompute: again.forward, backward: [main.stats, main.backward] };
    },
  });
  const center = (await createCenter(device, { B, D }))({ x: c.x, b_dec: P.b_dec[0], xc });
  const dn = await slabDecoderNorms(c, { wnorm, zsum, gW_dec: grads.W_dec! });
  const loss = (await createReconLoss(device, { B, D }))({
    x: c.x,
    xhat,
    ehat: xhat,
    state: c.state,
    hyper: c.hyper,
    dvec,
    rowstats,
  });
  const fwd: BoundKernel[] = [center, ...dn.norms, ...tiles.forward, loss];
  const step: BoundKernel[] = [...fwd, ...tiles.backward];
  step.push(...await slabBdecGrad(c, { rows: B, dvec, gb_enc: grads.b_enc![0], gb_dec: grads.b_dec![0] }));
  if (!jump) step.push(...dn.l1Grad);
  const opt = await buildOptimizer(c, grads, rowstats, { penalty: true, aux: false });
  step.push(...opt.project, ...opt.out);
  fwd.push(opt.val);
  return { step, forward: fwd, grads, rowstats, retie: opt.retie };
}

/**
 * The one-piece dense step's buffers (./arch_transcoder.ts): pre [B, S]; latents z and
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

/** One-piece decoder-row norms (kernels/optim/decoder_norm.ts, rows of `out`) and ReLU / JumpReLU (./arch_transcoder.ts). */
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
