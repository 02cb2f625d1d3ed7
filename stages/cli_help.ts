/**
 * `--help` for script entry points without an option parser of their own (`deno task bench`, each
 * `bench/*_bench.ts`, `deno task docs`): import this module first (`import "…/cli_help.ts";`) and
 * `--help` / `-h` prints the entry point's leading doc comment, which is where its usage is written, and
 * exits 0 before anything else runs (imports are evaluated in order, so the rest has not started).
 */

/** The leading `/** … *\/` comment of a module's source, without the comment markers. */
export function leadingDoc(source: string): string | null {
  const m = /^\s*\/\*\*([\s\S]*?)\*\//.exec(source);
  if (!m) return null;
  return m[1].split("\n").map((l) => l.replace(/^\s*\* ?/, "")).join("\n").trim();
}

if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
  const main = new URL(Deno.mainModule);
  const doc = main.protocol === "file:" ? leadingDoc(await Deno.readTextFile(main)) : null;
  console.log(doc ?? `usage: deno run -A ${main.pathname}`);
  Deno.exit(0);
}
