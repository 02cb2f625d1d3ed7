/** The default stage graph: model → pretokenize → extract → train → evaluate → export. */
import { modelStage } from "./model/mod.ts";
import { pretokenizeStage } from "./pretokenize/mod.ts";
import { extractStage } from "./extract/mod.ts";
import { trainStage } from "./train/mod.ts";
import { evaluateStage } from "./evaluate/mod.ts";
import { exportStage } from "./export/mod.ts";

export const defaultStages = [modelStage, pretokenizeStage, extractStage, trainStage, evaluateStage, exportStage];

export { evaluateStage, exportStage, extractStage, modelStage, pretokenizeStage, trainStage };
