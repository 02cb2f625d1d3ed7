/**
 * Param schemas: each stage declares the keys of its config section with a type, a default and a
 * one-line doc. The same schema validates the config, fills defaults, parses `--set` values and
 * generates the config reference in `--help`.
 */
import { ignoreBadJson } from "./missing.ts";

export type ParamType =
  | "int"
  | "number"
  | "string"
  | "boolean"
  | "enum"
  | "string[]"
  | "json";

export interface ParamSpec {
  type: ParamType;
  /** Default value; `null` means "unset" (optional key). */
  default: unknown;
  doc: string;
  /** Allowed values for `enum`. */
  values?: readonly string[];
  min?: number;
  max?: number;
  /** Accept `null` as a value (an optional key). */
  nullable?: boolean;
}

export type ParamSchema = Record<string, ParamSpec>;

/** The value type a spec's key holds: from its `type` (enum: its `values`), plus `null` when optional. */
type ParamValue<S extends ParamSpec> =
  | (S["type"] extends "int" | "number" ? number
    : S["type"] extends "string" ? string
    : S["type"] extends "boolean" ? boolean
    : S["type"] extends "enum" ? (S extends { values: readonly (infer V)[] } ? V : string)
    : S["type"] extends "string[]" ? string[]
    : S extends { readonly __value?: infer T } ? T
    : unknown)
  | (S extends { nullable: true } ? null : S extends { default: null } ? null : never);

/**
 * A stage's params interface derived from its schema, so each key is declared once: declare the schema
 * `as const satisfies ParamSchema` and write `type MyParams = ParamsOf<typeof mySchema>`.
 */
export type ParamsOf<S extends Record<string, ParamSpec>> = { -readonly [K in keyof S]: ParamValue<S[K]> };

/**
 * A `json` key whose value has type `T` (the stage's `validate` checks the shape): `jsonParam<T>({ default, doc })`.
 * `__value` is never set; it only carries `T` into `ParamsOf`, so the key is still declared once.
 */
export function jsonParam<T>(
  spec: { default: T; doc: string },
): { type: "json"; default: T; doc: string; readonly __value?: T } {
  return { type: "json", ...spec };
}

/** Validation failure: one line naming the key and what is wrong. */
export class ParamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ParamError";
  }
}

function describe(spec: ParamSpec): string {
  if (spec.type === "enum") return `one of ${spec.values!.map((v) => `"${v}"`).join(" | ")}`;
  return spec.type === "int" ? "an integer" : spec.type === "json" ? "any JSON value" : `a ${spec.type}`;
}

function typeName(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

/** Check one value against its spec; throws ParamError naming `path`. */
export function checkValue(path: string, spec: ParamSpec, v: unknown): unknown {
  if (v === null && (spec.nullable || spec.default === null)) return null;
  const bad = () =>
    new ParamError(`config key "${path}": expected ${describe(spec)}, got ${typeName(v)} ${JSON.stringify(v)}`);
  switch (spec.type) {
    case "int":
      if (typeof v !== "number" || !Number.isInteger(v)) throw bad();
      break;
    case "number":
      if (typeof v !== "number" || !Number.isFinite(v)) throw bad();
      break;
    case "string":
      if (typeof v !== "string") throw bad();
      break;
    case "boolean":
      if (typeof v !== "boolean") throw bad();
      break;
    case "enum":
      if (typeof v !== "string" || !spec.values!.includes(v)) throw bad();
      break;
    case "string[]":
      if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) throw bad();
      break;
    case "json":
      break;
  }
  if (typeof v === "number") {
    if (spec.min !== undefined && v < spec.min) {
      throw new ParamError(`config key "${path}": ${v} is below the minimum ${spec.min}`);
    }
    if (spec.max !== undefined && v > spec.max) {
      throw new ParamError(`config key "${path}": ${v} is above the maximum ${spec.max}`);
    }
  }
  return v;
}

/** Levenshtein distance, for "did you mean" hints. */
export function editDistance(a: string, b: string): number {
  const d = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length];
}

/** The closest candidates to `name` (for error messages). */
export function closeMatches(name: string, candidates: Iterable<string>, n = 3): string[] {
  return [...candidates]
    .map((c) => [c, editDistance(name.toLowerCase(), c.toLowerCase())] as const)
    .filter(([c, d]) => d <= Math.max(2, Math.floor(c.length / 3)) || c.includes(name) || name.includes(c))
    .sort((a, b) => a[1] - b[1])
    .slice(0, n)
    .map(([c]) => c);
}

/** Validate a config section and fill defaults. Unknown keys are an error naming the key. */
export function resolveParams(
  section: string,
  schema: ParamSchema,
  given: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const raw = given ?? {};
  if (typeof raw !== "object" || Array.isArray(raw)) {
    throw new ParamError(`config section "${section}" must be an object`);
  }
  for (const key of Object.keys(raw)) {
    if (!(key in schema)) {
      const near = closeMatches(key, Object.keys(schema));
      const hint = near.length ? ` (did you mean ${near.map((n) => `"${section}.${n}"`).join(", ")}?)` : "";
      throw new ParamError(`unknown config key "${section}.${key}"${hint}`);
    }
  }
  for (const [key, spec] of Object.entries(schema)) {
    const v = key in raw ? raw[key] : spec.default;
    out[key] = checkValue(`${section}.${key}`, spec, v);
  }
  return out;
}

/**
 * Parse a `--set` value with the key's type: numbers for int/number, true/false for booleans,
 * JSON for arrays and json (a bare word such as `eos` that is not JSON is taken as that string),
 * `null` for optional keys, otherwise the raw string.
 */
/** A `--set` value read as a plain string for json keys: a word, no spaces, quotes or brackets. */
const BARE_WORD = /^[A-Za-z_][\w.:/-]*$/;

export function parseSetValue(path: string, spec: ParamSpec | undefined, raw: string): unknown {
  if (raw === "null") return null;
  if (!spec) {
    try {
      return JSON.parse(raw);
    } catch (e) {
      ignoreBadJson(e);
      return raw;
    }
  }
  switch (spec.type) {
    case "int":
    case "number": {
      const n = Number(raw);
      if (raw.trim() === "" || !Number.isFinite(n)) {
        throw new ParamError(`--set ${path}=${raw}: expected ${describe(spec)}`);
      }
      return n;
    }
    case "boolean":
      if (raw === "true") return true;
      if (raw === "false") return false;
      throw new ParamError(`--set ${path}=${raw}: expected true or false`);
    case "string[]":
    case "json":
      try {
        return JSON.parse(raw);
      } catch (e) {
        ignoreBadJson(e);
        if (spec.type === "string[]") return raw.split(",").filter((s) => s.length > 0);
        if (BARE_WORD.test(raw)) return raw;
        throw new ParamError(
          `--set ${path}=${raw}: expected JSON or a bare word (quote other strings as JSON: --set '${path}="${raw}"')`,
        );
      }
    default:
      return raw;
  }
}
