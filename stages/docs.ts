/**
 * `deno task docs`: regenerate README.md's configuration reference from the stages' param schemas, the
 * same source `deno task pipeline --help` prints, so the two always agree (a test checks it).
 */
import { configReference } from "../pipeline/cli.ts";
import { defaultStages } from "./graph.ts";

export const START = "<!-- config-reference:start -->";
export const END = "<!-- config-reference:end -->";

export function renderReference(): string {
  return `${START}\n${configReference(defaultStages, true).trimEnd()}\n${END}`;
}

export function replaceReference(readme: string): string {
  const a = readme.indexOf(START), b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README.md lacks the ${START} … ${END} markers`);
  return readme.slice(0, a) + renderReference() + readme.slice(b + END.length);
}

if (import.meta.main) {
  const path = new URL("../README.md", import.meta.url);
  await Deno.writeTextFile(path, replaceReference(await Deno.readTextFile(path)));
  console.log("README.md: configuration reference regenerated");
}
