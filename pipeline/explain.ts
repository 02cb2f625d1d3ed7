/** Why a stage is stale: its ingredients compared with what the last run recorded for it. */
import { canonicalJson } from "./hash.ts";
import type { CodeFingerprint } from "./fingerprint.ts";
import type { LockStage } from "./records.ts";
import type { AnyStage } from "./run.ts";

function fmt(v: unknown): string {
  return v === undefined ? "(unset)" : canonicalJson(v);
}

/** Why a stage is stale, relative to what the last run recorded for it. */
export function explain(
  stage: AnyStage,
  prev: LockStage | undefined,
  params: Record<string, unknown>,
  code: CodeFingerprint,
  upstream: Record<string, string | null>,
  pendingUpstreams: string[],
): string[] {
  if (!prev) return ["no cached output for these inputs (never run with them)"];
  const reasons: string[] = [];
  const keys = new Set([...Object.keys(prev.params ?? {}), ...Object.keys(params)]);
  for (const k of [...keys].sort()) {
    if (canonicalJson(prev.params?.[k]) !== canonicalJson(params[k])) {
      reasons.push(`param ${stage.name}.${k}: ${fmt(prev.params?.[k])} → ${fmt(params[k])}`);
    }
  }
  const files = new Set([...Object.keys(prev.code?.files ?? {}), ...Object.keys(code.files)]);
  for (const f of [...files].sort()) {
    const a = prev.code?.files?.[f], b = code.files[f];
    if (a === b) continue;
    const what = f.startsWith("data:") ? "input data" : "code";
    const name = f.replace(/^data:/, "");
    reasons.push(
      a === undefined
        ? `${what} file added: ${name}`
        : b === undefined
        ? `${what} file removed: ${name}`
        : `${what} changed: ${name}`,
    );
  }
  const pk = new Set([...Object.keys(prev.code?.packages ?? {}), ...Object.keys(code.packages)]);
  for (const p of [...pk].sort()) {
    if (prev.code?.packages?.[p] !== code.packages[p]) {
      reasons.push(`package ${p}: ${prev.code?.packages?.[p] ?? "-"} → ${code.packages[p] ?? "-"}`);
    }
  }
  for (const u of pendingUpstreams) reasons.push(`upstream ${u} will rerun (its output may change)`);
  for (const [u, h] of Object.entries(upstream)) {
    if (h && prev.upstream?.[u] !== h) reasons.push(`upstream ${u} output changed`);
  }
  if (prev.runtime && prev.runtime !== Deno.version.deno) {
    reasons.push(`runtime: deno ${prev.runtime} → ${Deno.version.deno}`);
  }
  if (reasons.length === 0) reasons.push("cached output missing or corrupt");
  return reasons;
}
