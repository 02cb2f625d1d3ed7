/**
 * Sweeps: one config, many points. The config's `sweep` section holds a `grid` (key -> list of values; every
 * combination is a point) and/or `points` (a list of explicit key -> value overrides); `--sweep key=a,b,c` on
 * the command line adds or replaces one grid axis. Keys are `section.param` of the stage schemas and every
 * value is checked against its key's type up front, so a bad spec fails with one line naming the key before
 * anything runs. Each point is the base config with its overrides applied: the engine then runs it as its own
 * branch, and stages whose inputs do not depend on the swept keys are shared through the store.
 */
import { canonicalJson } from "./hash.ts";
import { checkValue, closeMatches, ParamError, type ParamSpec, parseSetValue } from "./params.ts";
import type { AnyStage } from "./run.ts";

/** Config sections the engine reads itself (not stage sections). */
export const ENGINE_SECTIONS = ["sweep", "resources"] as const;

export interface SweepPoint {
  /** Stable label naming the point by its overrides, e.g. `train.k=16,train.expansion_factor=4`. */
  label: string;
  /** The overrides of this point, in key order. */
  overrides: Record<string, unknown>;
  /** The base config with the overrides applied (no `sweep` section). */
  config: Record<string, unknown>;
}

export interface SweepSpec {
  grid: Record<string, unknown[]>;
  points: Record<string, unknown>[];
}

function specOf(stages: readonly AnyStage[], key: string, where: string): ParamSpec {
  const dot = key.indexOf(".");
  const section = dot < 0 ? key : key.slice(0, dot);
  const param = dot < 0 ? "" : key.slice(dot + 1);
  const stage = stages.find((s) => s.name === section);
  if (!stage || !param) {
    const all = stages.flatMap((s) => Object.keys(s.params).map((p) => `${s.name}.${p}`));
    const near = closeMatches(key, all);
    throw new ParamError(
      `${where} "${key}": not a section.key of the config${
        near.length ? ` (did you mean ${near.map((n) => `"${n}"`).join(", ")}?)` : ""
      }`,
    );
  }
  const spec = stage.params[param];
  if (!spec) {
    const near = closeMatches(param, Object.keys(stage.params)).map((n) => `"${section}.${n}"`);
    throw new ParamError(
      `${where} "${key}": unknown config key${near.length ? ` (did you mean ${near.join(", ")}?)` : ""}`,
    );
  }
  return spec;
}

function checkSweepValue(stages: readonly AnyStage[], key: string, value: unknown, where: string): void {
  const spec = specOf(stages, key, where);
  try {
    checkValue(key, spec, value);
  } catch (e) {
    throw new ParamError(`${where} "${key}": ${(e as Error).message.replace(/^config key "[^"]*": /, "")}`);
  }
}

/** Read and check the config's `sweep` section (absent: an empty spec). */
export function readSweepSection(stages: readonly AnyStage[], config: Record<string, unknown>): SweepSpec {
  const raw = config.sweep;
  const spec: SweepSpec = { grid: {}, points: [] };
  if (raw === undefined || raw === null) return spec;
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new ParamError(`config section "sweep" must be an object with "grid" and/or "points"`);
  }
  for (const k of Object.keys(raw)) {
    if (k !== "grid" && k !== "points") {
      throw new ParamError(`unknown config key "sweep.${k}" (a sweep has "grid" and "points")`);
    }
  }
  const { grid, points } = raw as { grid?: unknown; points?: unknown };
  if (grid !== undefined) {
    if (!grid || typeof grid !== "object" || Array.isArray(grid)) {
      throw new ParamError(`config key "sweep.grid" must be an object of section.key -> list of values`);
    }
    for (const [key, values] of Object.entries(grid)) {
      if (!Array.isArray(values)) throw new ParamError(`sweep key "${key}": expected a list of values`);
      if (values.length === 0) throw new ParamError(`sweep key "${key}": empty list of values`);
      for (const v of values) checkSweepValue(stages, key, v, "sweep key");
      spec.grid[key] = values;
    }
  }
  if (points !== undefined) {
    if (!Array.isArray(points)) throw new ParamError(`config key "sweep.points" must be a list of objects`);
    points.forEach((p, i) => {
      if (!p || typeof p !== "object" || Array.isArray(p)) {
        throw new ParamError(`sweep.points[${i}] must be an object of section.key -> value`);
      }
      for (const [key, v] of Object.entries(p)) checkSweepValue(stages, key, v, `sweep.points[${i}] key`);
      spec.points.push(p as Record<string, unknown>);
    });
  }
  return spec;
}

/** Split a `--sweep` value list on top-level commas (a JSON list is taken as is). */
function splitValues(raw: string): string[] {
  if (raw.trim().startsWith("[")) {
    try {
      const v = JSON.parse(raw);
      if (Array.isArray(v)) return v.map((x) => typeof x === "string" ? x : JSON.stringify(x));
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e; // not JSON: fall through to comma splitting
    }
  }
  return raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Parse one `--sweep section.key=v1,v2,...` into a grid axis, typed and checked by the key's schema. */
export function parseSweepArg(stages: readonly AnyStage[], arg: string): [string, unknown[]] {
  const eq = arg.indexOf("=");
  if (eq < 0) throw new ParamError(`--sweep ${arg}: expected section.key=value1,value2,...`);
  const key = arg.slice(0, eq).trim();
  const spec = specOf(stages, key, "--sweep");
  const parts = splitValues(arg.slice(eq + 1));
  if (parts.length === 0) throw new ParamError(`--sweep "${key}": empty list of values`);
  const values = parts.map((p) => {
    try {
      return parseSetValue(key, spec, p);
    } catch (e) {
      throw new ParamError(`--sweep "${key}": ${(e as Error).message.replace(/^--set [^:]*: /, "")} (got "${p}")`);
    }
  });
  for (const v of values) checkSweepValue(stages, key, v, "--sweep");
  return [key, values];
}

function setKey(config: Record<string, unknown>, key: string, value: unknown): void {
  const dot = key.indexOf(".");
  const section = key.slice(0, dot);
  config[section] = { ...(config[section] as Record<string, unknown> ?? {}), [key.slice(dot + 1)]: value };
}

function labelOf(overrides: Record<string, unknown>): string {
  return Object.entries(overrides).map(([k, v]) => `${k}=${typeof v === "string" ? v : canonicalJson(v)}`).join(
    ",",
  );
}

/** Every combination of the grid's axes, in axis order (the last axis varies fastest). */
function product(grid: Record<string, unknown[]>): Record<string, unknown>[] {
  let out: Record<string, unknown>[] = [{}];
  for (const [key, values] of Object.entries(grid)) {
    out = out.flatMap((o) => values.map((v) => ({ ...o, [key]: v })));
  }
  return out;
}

/**
 * The points of a sweep: the grid's combinations followed by the explicit points, duplicates dropped.
 * Without any sweep the single point is the base config itself (label "").
 */
export function expandSweep(
  stages: readonly AnyStage[],
  config: Record<string, unknown>,
  cliAxes: string[] = [],
): SweepPoint[] {
  const spec = readSweepSection(stages, config);
  for (const arg of cliAxes) {
    const [key, values] = parseSweepArg(stages, arg);
    spec.grid[key] = values;
  }
  const { sweep: _sweep, ...base } = config;
  const overrides = [...(Object.keys(spec.grid).length ? product(spec.grid) : []), ...spec.points];
  if (overrides.length === 0) return [{ label: "", overrides: {}, config: base }];
  const seen = new Set<string>();
  const points: SweepPoint[] = [];
  for (const o of overrides) {
    const label = labelOf(o);
    if (seen.has(label)) continue;
    seen.add(label);
    const cfg = structuredClone(base);
    for (const [k, v] of Object.entries(o)) setKey(cfg, k, v);
    points.push({ label, overrides: o, config: cfg });
  }
  return points;
}
