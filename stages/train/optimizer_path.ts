/**
 * The step's tail: clip by the global gradient norm, Adam on every trained parameter part (W_dec's
 * fused with the row projection and renormalisation, kernels/optim/decoder_adam.wgsl), and the
 * metric reductions of the training and the forward-only pass. Tied weights: W_dec trains on
 * gW_dec + gW_encᵀ and W_enc is rewritten as W_decᵀ after Adam (./tie_slabs.ts, slab by slab).
 */
import type { BoundKernel } from "../../kernels/runtime/mod.ts";
import { createMetrics } from "../../kernels/loss/mod.ts";
import { createAdam, createDecoderAdam, createDecoderNorm, createGradNorm } from "../../kernels/optim/mod.ts";
import { tieKernels } from "./tie_slabs.ts";
import type { GradParts } from "./param_store.ts";
import type { StepContext } from "./step_context.ts";
import { PARAM_NAMES } from "./trainer_types.ts";

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

export async function buildOptimizer(
  c: StepContext,
  grads: GradParts,
  rowstats: GPUBuffer,
  { penalty, aux, gateAux = false }: { penalty: boolean; aux: boolean; gateAux?: boolean },
): Promise<OptimizerKernels> {
  const { device, cfg, store } = c;
  const O = cfg.d_out ?? cfg.d_in; // the decoder's side (a transcoder's target)
  const tie = cfg.tiedWeights ? await tieKernels(c, grads) : undefined;
  const names = PARAM_NAMES.filter((n) => grads[n] && !(tie && n === "W_enc"));
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
      const bufs = { hyper: c.hyper, state: c.state, m: store.m[n][j], v: store.v[n][j] };
      const grad = grads[n]![j];
      const param = store.params[n][j];
      if (n !== "W_dec") {
        out.push((await createAdam(device, { n: size }))({ ...bufs, grad, param }));
        continue;
      }
      const rows = size / O;
      const dims = { D: O, S: rows, project: fuseProject, normalize: cfg.normalizeDecoder };
      out.push((await createDecoderAdam(device, dims))({ ...bufs, gW_dec: grad, W_dec: param }));
      if (cfg.normalizeDecoder && !fuseProject) {
        project.push((await createDecoderNorm(device, { D: O, S: rows }))({ W_dec: param, gW_dec: grad }).project);
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
