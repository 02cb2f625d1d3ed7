/**
 * The train stage: a sparse autoencoder trained on WebGPU over the extract stage's activations
 * (architectures topk, batchtopk, standard, jumprelu, gated, matryoshka_batchtopk; transcoders with
 * train.target_hook). Outputs per stages/CONTRACTS.md; checkpoints
 * live in ctx.scratchDir and an interrupted run resumes from the latest one with identical results.
 */
import { defineStage } from "../../pipeline/stage.ts";
import { type TrainParams, trainParams } from "./params.ts";
import { trainSae } from "./train_loop.ts";
import { checkTranscoderParams } from "./transcoder_setup.ts";
import { getDevice } from "../../kernels/runtime/device.ts";
import { adapterLine, adapterReport } from "../../kernels/runtime/adapter_report.ts";

export const trainStage = defineStage<TrainParams>({
  name: "train",
  upstream: ["extract"],
  params: trainParams,
  description: "train a sparse autoencoder on the activations (WebGPU)",
  module: import.meta.url,
  packages: ["@duckdb/node-api"],
  unit: "tokens",
  validate: checkTranscoderParams,
  async run(ctx) {
    // Every run says what it trains on; a slow fallback (OpenGL llvmpipe) warns even with --quiet.
    await getDevice();
    const adapter = await adapterReport()!;
    ctx.log(adapterLine(adapter));
    if (adapter.warning) console.error(`! train: ${adapter.warning}`);
    await trainSae({
      params: ctx.params,
      extractDir: ctx.inputs.extract,
      outDir: ctx.outDir,
      scratchDir: ctx.scratchDir,
      signal: ctx.signal,
      progress: ctx.progress,
      log: ctx.log,
    });
  },
});
