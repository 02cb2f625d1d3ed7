/**
 * Small stages written for the engine tests. `writeFixtureGraph(dir, n)` writes a chain of stage modules
 * into `dir` (so tests can edit their code) with a shared helper; every execution appends the stage
 * name to `<dir>/executions.log`, which tests count.
 *
 * Chain: s0 (param n) -> s1 (writes n % 2: early cutoff when n changes parity-preserving) -> s2 ... s{N-1}.
 * s1 imports `parity_helper.ts`; a stage with `sleep_ms` > 0 writes half its output, sleeps, then the rest.
 */
import { join, toFileUrl } from "./path_util.ts";

const STAGE_TS = new URL("../../pipeline/stage.ts", import.meta.url).href;

function stageSource(i: number): string {
  const up = i === 0 ? "[]" : `["s${i - 1}"]`;
  const body = i === 0
    ? "const text = `n=${ctx.params.n}`;"
    : i === 1
    ? `const prev = await Deno.readTextFile(ctx.inputs.s0 + "/out.txt");
    const text = parity(Number(prev.split("=")[1]));`
    : `const prev = await Deno.readTextFile(ctx.inputs.s${i - 1} + "/out.txt");
    const text = prev + "|s${i}" + (ctx.params.suffix as string);`;
  return `import { defineStage } from "${STAGE_TS}";
${i === 1 ? 'import { parity } from "./parity_helper.ts";' : ""}
export const stage = defineStage({
  name: "s${i}",
  upstream: ${up},
  description: "fixture stage ${i}",
  module: import.meta.url,
  unit: "parts",
  params: {
    n: { type: "int", default: 1, doc: "a number" },
    suffix: { type: "string", default: "", doc: "appended" },
    sleep_ms: { type: "int", default: 0, doc: "sleep mid-output (kill tests)" },
  },
  async run(ctx) {
    await Deno.writeTextFile(import.meta.dirname + "/executions.log", "s${i}\\n", { append: true });
    ${body}
    await Deno.writeTextFile(ctx.outDir + "/part1.txt", "first half");
    const ms = ctx.params.sleep_ms as number;
    if (ms > 0) {
      await Deno.writeTextFile(import.meta.dirname + "/started.flag", "s${i}");
      await new Promise((r) => setTimeout(r, ms));
    }
    ctx.progress(1, 1);
    await Deno.mkdir(ctx.outDir + "/sub", { recursive: true });
    await Deno.writeTextFile(ctx.outDir + "/sub/out.bin", "x".repeat(1000));
    await Deno.writeTextFile(ctx.outDir + "/out.txt", text);
  },
});
`;
}

export async function writeFixtureGraph(dir: string, n = 3): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(join(dir, "parity_helper.ts"), "export const parity = (n: number) => `parity=${n % 2}`;\n");
  for (let i = 0; i < n; i++) await Deno.writeTextFile(join(dir, `s${i}.ts`), stageSource(i));
  const imports = Array.from({ length: n }, (_, i) => `import { stage as s${i} } from "./s${i}.ts";`).join("\n");
  await Deno.writeTextFile(
    join(dir, "graph.ts"),
    `${imports}\nexport const stages = [${Array.from({ length: n }, (_, i) => `s${i}`).join(", ")}];\n`,
  );
}

/** Import the graph of `dir` (fresh module instance each call via a cache-busting query). */
export async function loadFixtureGraph(dir: string) {
  const mod = await import(toFileUrl(join(dir, "graph.ts")).href);
  return mod.stages;
}

export async function executions(dir: string): Promise<string[]> {
  try {
    return (await Deno.readTextFile(join(dir, "executions.log"))).split("\n").filter(Boolean);
  } catch {
    return [];
  }
}

export async function resetExecutions(dir: string): Promise<void> {
  await Deno.remove(join(dir, "executions.log")).catch(() => {});
}
