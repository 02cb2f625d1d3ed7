/**
 * `deno task docs`: regenerate README.md's configuration reference from the stages' param schemas, the
 * same source `deno task pipeline --help` prints, so the two always agree (a test checks it), then
 * format README.md with `deno fmt`.
 *   usage: deno task docs
 */
import "./cli_help.ts"; // --help prints the comment above
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
  const fmt = await new Deno.Command(Deno.execPath(), { args: ["fmt", "--quiet", path.pathname] }).output();
  if (!fmt.success) throw new Error(`deno fmt README.md failed: ${new TextDecoder().decode(fmt.stderr).trim()}`);
  console.log("README.md: configuration reference regenerated");
}
