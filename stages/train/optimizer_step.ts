/** The optimizer end of a step: gradient-norm clip, Adam per trained parameter, decoder rows, metrics. */
import type { BoundKernel } from "../../kernels/runtime/mod.ts";
import { createAdam, createDecoderAdam, createDecoderNorm, createGradNorm } from "../../kernels/optim/mod.ts";
import { createMetrics } from "../../kernels/loss/mod.ts";
import { PARAM_NAMES, type ParamName } from "./trainer_config.ts";
import type { StepContext } from "./step_context.ts";

/** Gradient-norm clip, Adam on each trained parameter, decoder renormalisation, metrics. */
export async function optimizerStep(
  c: StepContext,
  grads: Partial<Record<ParamName, GPUBuffer>>,
  rowstats: GPUBuffer,
  penalty: boolean,
) {
  const { device, cfg } = c;
  const names = PARAM_NAMES.filter((n) => grads[n]);
  const out: BoundKernel[] = [];
  if (cfg.clipGradNorm > 0) {
    const clip = await createGradNorm(device, {
      sizes: names.map((n) => grads[n]!.size / 4),
      maxNorm: cfg.clipGradNorm,
    });
    out.push(clip({ grads: names.map((n) => grads[n]!), state: c.state }));
  }
  // W_dec: Adam fused with the row projection (when no clip needs the projected gradient first) and
  // the renormalisation, one pass over the decoder (kernels/optim/decoder_adam.wgsl).
  const fuseProject = cfg.normalizeDecoder && !(cfg.clipGradNorm > 0);
  for (const n of names) {
    const bufs = { hyper: c.hyper, state: c.state, m: c.m[n], v: c.v[n] };
    if (n === "W_dec") {
      const dims = { D: cfg.d_in, S: cfg.d_sae, project: fuseProject, normalize: cfg.normalizeDecoder };
      out.push((await createDecoderAdam(device, dims))({ ...bufs, gW_dec: grads[n]!, W_dec: c.params[n] }));
      continue;
    }
    const adam = await createAdam(device, { n: grads[n]!.size / 4 });
    out.push(adam({ ...bufs, grad: grads[n]!, param: c.params[n] }));
  }
  const dn = (await createDecoderNorm(device, { D: cfg.d_in, S: cfg.d_sae }))({
    W_dec: c.params.W_dec,
    gW_dec: grads.W_dec!,
  });
  const aux = c.auxCap > 0;
  const metricsDims = {
    B: cfg.batch,
    D: cfg.d_in,
    S: cfg.d_sae,
    window: cfg.deadWindow,
    auxK: cfg.auxK,
    penalty,
    aux,
  };
  const bufs = { rowstats, x: c.x, since: c.since, hyper: c.hyper, state: c.state };
  out.push((await createMetrics(device, metricsDims))({ ...bufs, metrics: c.metrics }));
  const val = (await createMetrics(device, { ...metricsDims, aux: false, dead: false }))({
    ...bufs,
    metrics: c.valMetrics,
  });
  return { out, project: cfg.normalizeDecoder && !fuseProject ? dn.project : undefined, val };
}
