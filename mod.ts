/**
 * The public API: the engine (define stages, run a graph, inspect runs), the default SAE stages, results
 * in DuckDB, and exported SAEs.
 *
 * ```ts
 * import { defaultStages, runPipeline, openResults, loadSae } from "./mod.ts";
 * const res = await runPipeline({ stages: defaultStages, config, storeDir: "data/store", root: "." });
 * const { connection, close } = await openResults({ store: "data/store" });
 * const sae = await loadSae("data/store/objects/<export key>/saelens");
 * const latents = sae.encode(activations, nTokens);
 * const inspected = await inspectText({ store: "data/store", text: "The jury said", top: 5 });
 * ```
 */
export * from "./pipeline/mod.ts";
export {
  defaultStages,
  evaluateStage,
  exportStage,
  extractStage,
  modelStage,
  pretokenizeStage,
  trainStage,
} from "./stages/graph.ts";
export { type LoadedSae, loadSae } from "./stages/export/load.ts";
export { openResults, type Results, type ResultsOptions } from "./stages/query/open_results.ts";
export { type InspectResult, inspectText } from "./stages/inspect/inspect.ts";
export { decodeSafetensors, encodeSafetensors, readSafetensors, writeSafetensors } from "./stages/io/safetensors.ts";
export { readParquet, writeParquet } from "./stages/io/parquet.ts";
