/**
 * The step's tail: clip by the global gradient norm, Adam on every trained parameter part (W_dec's
 * fused with the row projection and renormalisation, kernels/optim/decoder_adam.wgsl), and the
 * metric reductions of the training and the forward-only pass. Tied weights: W_dec trains on
 * gW_dec + gW_encᵀ and W_enc is rewritten as W_decᵀ after Adam (./tie_slabs.ts, slab by slab).
 *
 * Streamed gradients (`streamsGradients`: no clip, untied): the TopK family's builder runs each latent
 * slab's W_enc / W_dec Adam (`partAdam`) right after that slab's gradient pass, so one slab-sized
 * gradient buffer pair serves every slab and the step never holds the full 2·d_in·d_sae gradients.
 * The clip needs the global norm of every gradient before any update, and the tie both whole
 * gradients, so those keep all gradients stored (here, after the last gradient kernel).
 */
import type { BoundKernel } from "../../kernels/runtime/mod.ts";
import { createMetrics } from "../../kernels/loss/mod.ts";
import { createAdam, createDecoderAdam, createDecoderNorm, createGradNorm } from "../../kernels/optim/mod.ts";
import { tieKernels } from "./tie_slabs.ts";
import type { GradParts } from "./param_store.ts";
import type { StepContext } from "./step_context.ts";
import { PARAM_NAMES, type ParamName, type TrainerConfig } from "./trainer_types.ts";

export interface OptimizerKernels {
  /** Drops the gradient parallel to each decoder row (before the clip needs the norm); else empty. */
  project: BoundKernel[];
  /** Clip, Adam, training metrics. */
  out: BoundKernel[];
  /** Forward-only metrics. */
  val: BoundKernel;
  /** Tied weights: W_enc ← W_decᵀ (also after resampling). */
  retie?: BoundKernel;
}

/** Whether the slab builders may stream W_enc / W_dec gradients into Adam slab by slab (see above). */
export function streamsGradients(cfg: TrainerConfig): boolean {
  return !(cfg.clipGradNorm > 0) && !cfg.tiedWeights && !cfg.keepGradients;
}

/**
 * Adam on part `j` of parameter `n` from gradient `grad`; W_dec's fused with the row projection (when
 * `project`) and the renormalisation (normalize_decoder).
 */
export async function partAdam(
  c: StepContext,
  n: ParamName,
  j: number,
  grad: GPUBuffer,
  project: boolean,
): Promise<BoundKernel> {
  const { device, cfg, store } = c;
  const size = store.sizes(n)[j];
  const bufs = { hyper: c.hyper, state: c.state, m: store.m[n][j], v: store.v[n][j] };
  const param = store.params[n][j];
  if (n !== "W_dec") return (await createAdam(device, { n: size }))({ ...bufs, grad, param });
  const O = cfg.d_out ?? cfg.d_in; // the decoder's side (a transcoder's target)
  const dims = { D: O, S: size / O, project, normalize: cfg.normalizeDecoder };
  return (await createDecoderAdam(device, dims))({ ...bufs, gW_dec: grad, W_dec: param });
}

export async function buildOptimizer(
  c: StepContext,
  grads: GradParts,
  rowstats: GPUBuffer,
  { penalty, aux, gateAux = false, streamed = false }: {
    penalty: boolean;
    aux: boolean;
    gateAux?: boolean;
    /** W_enc and W_dec are updated slab by slab by the caller (`partAdam`; needs `streamsGradients`). */
    streamed?: boolean;
  },
): Promise<OptimizerKernels> {
  const { device, cfg, store } = c;
  const O = cfg.d_out ?? cfg.d_in; // the decoder's side (a transcoder's target)
  const tie = cfg.tiedWeights ? await tieKernels(c, grads) : undefined;
  if (streamed && !streamsGradients(cfg)) throw new Error("train: internal: streamed gradients with clip or tie");
  const slabbed = (n: ParamName) => streamed && (n === "W_enc" || n === "W_dec");
  const names = PARAM_NAMES.filter((n) => grads[n] && !(tie && n === "W_enc") && !slabbed(n));
  const out: BoundKernel[] = [];
  if (cfg.clipGradNorm > 0) {
    const sizes = names.flatMap((n) => store.sizes(n));
    const clip = await createGradNorm(device, { sizes, maxNorm: cfg.clipGradNorm });
    out.push(clip({ grads: names.flatMap((n) => grads[n]!), state: c.state }));
  }
  // W_dec: Adam fused with the row projection (when no clip needs the projected gradient first) and
  // the renormalisation, one pass over each decoder slab.
  const fuseProject = cfg.normalizeDecoder && !(cfg.clipGradNorm > 0);
  const project: BoundKernel[] = [];
  for (const n of names) {
    for (const [j, size] of store.sizes(n).entries()) {
      out.push(await partAdam(c, n, j, grads[n]![j], fuseProject));
      if (n === "W_dec" && cfg.normalizeDecoder && !fuseProject) {
        const dims = { D: O, S: size / O };
        project.push(
          (await createDecoderNorm(device, dims))({ W_dec: store.params.W_dec[j], gW_dec: grads.W_dec![j] }).project,
        );
      }
    }
  }
  if (tie) {
    out.push(tie.transpose);
    // the tied gradient is formed before the projection and the clip read it
    (project.length ? project : out).unshift(tie.addTransposed);
  }
  const metricsDims = {
    B: cfg.batch,
    D: O,
    S: cfg.d_sae,
    window: cfg.deadWindow,
    auxK: cfg.auxK,
    penalty,
    aux: aux && !gateAux,
    gateAux,
  };
  const target = cfg.d_out !== undefined ? c.y : c.x;
  const bufs = { rowstats, x: target, since: c.since, hyper: c.hyper, state: c.state };
  out.push((await createMetrics(device, metricsDims))({ ...bufs, metrics: c.metrics }));
  const val = (await createMetrics(device, { ...metricsDims, aux: false, gateAux: false, dead: false }))({
    ...bufs,
    metrics: c.valMetrics,
  });
  return { project, out, val, retie: tie?.transpose };
}
