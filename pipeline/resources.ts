/**
 * Per-stage cluster resources, from the config's `resources` section: `default` applies to every stage,
 * a stage's own entry overrides it key by key, e.g.
 *   "resources": { "default": { "partition": "cpu", "time": "1:00:00", "cpus": 4, "mem": "8G" },
 *                  "train": { "partition": "gpu", "gres": "gpu:1" } }
 * `extra` passes further sbatch options verbatim.
 */
import { ParamError } from "./params.ts";

export interface StageResources {
  partition?: string;
  time?: string;
  cpus?: number;
  mem?: string;
  gres?: string;
  extra?: string[];
}

const FIELDS: Record<keyof StageResources, "string" | "int" | "string[]"> = {
  partition: "string",
  time: "string",
  cpus: "int",
  mem: "string",
  gres: "string",
  extra: "string[]",
};

/** Check the section (one-line errors naming the key) and return it per stage name (or `default`). */
export function readResources(
  config: Record<string, unknown>,
  stageNames: readonly string[],
): Record<string, StageResources> {
  const raw = config.resources;
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new ParamError(`config section "resources" must be an object`);
  }
  const out: Record<string, StageResources> = {};
  for (const [name, spec] of Object.entries(raw)) {
    if (name !== "default" && !stageNames.includes(name)) {
      throw new ParamError(
        `config key "resources.${name}": not a stage (stages: ${stageNames.join(", ")}, or default)`,
      );
    }
    if (!spec || typeof spec !== "object" || Array.isArray(spec)) {
      throw new ParamError(`config key "resources.${name}" must be an object`);
    }
    for (const [k, v] of Object.entries(spec)) {
      const type = FIELDS[k as keyof StageResources];
      const path = `resources.${name}.${k}`;
      if (!type) throw new ParamError(`unknown config key "${path}" (keys: ${Object.keys(FIELDS).join(", ")})`);
      const ok = type === "int"
        ? Number.isInteger(v) && (v as number) > 0
        : type === "string"
        ? typeof v === "string" && v.length > 0
        : Array.isArray(v) && v.every((x) => typeof x === "string");
      if (!ok) {
        throw new ParamError(`config key "${path}": expected ${type === "int" ? "a positive integer" : `a ${type}`}`);
      }
    }
    out[name] = spec as StageResources;
  }
  return out;
}

/** sbatch options for a stage: its entry over `default`. */
export function sbatchOptions(resources: Record<string, StageResources>, stage: string): string[] {
  const r: StageResources = { ...(resources.default ?? {}), ...(resources[stage] ?? {}) };
  const args: string[] = [];
  if (r.partition) args.push(`--partition=${r.partition}`);
  if (r.time) args.push(`--time=${r.time}`);
  if (r.cpus) args.push(`--cpus-per-task=${r.cpus}`);
  if (r.mem) args.push(`--mem=${r.mem}`);
  if (r.gres) args.push(`--gres=${r.gres}`);
  return [...args, ...(r.extra ?? [])];
}
