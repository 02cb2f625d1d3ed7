/**
 * Every command-line entry point answers `--help` with its usage and exit status 0, without doing its
 * work: the scripts behind deno.json's tasks, each bench file, and the ./task bootstrap.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";

const root = new URL("../../", import.meta.url);
const rootPath = root.pathname;

/** Files the tasks run (`deno run -A FILE`), e.g. stages/cli.ts for `deno task pipeline`. */
function taskEntryPoints(): string[] {
  const tasks = JSON.parse(Deno.readTextFileSync(new URL("deno.json", root))).tasks as Record<string, string>;
  return Object.values(tasks).flatMap((cmd) => [...cmd.matchAll(/deno run -A (\S+\.ts)/g)].map((m) => m[1]));
}

const benches = [...Deno.readDirSync(new URL("bench/", root))].map((e) => `bench/${e.name}`)
  .filter((f) => f.endsWith("_bench.ts")).sort();

async function help(cmd: string, args: string[]) {
  // A script that ignores --help and starts its work is killed (and fails) instead of running on.
  const signal = AbortSignal.timeout(60_000);
  const out = await new Deno.Command(cmd, { args, cwd: rootPath, stdout: "piped", stderr: "piped", signal }).output();
  return { code: out.code, out: new TextDecoder().decode(out.stdout), err: new TextDecoder().decode(out.stderr) };
}

Deno.test("--help: every task's script and every bench prints its usage and exits 0 without running", async () => {
  const files = [...new Set([...taskEntryPoints(), ...benches])];
  for (const f of ["stages/cli.ts", "stages/query/cli.ts", "bench/mod.ts", "stages/docs.ts"]) {
    assert(files.includes(f), `${f} is a task entry point`);
  }
  const readme = await Deno.stat(new URL("README.md", root));
  const results = await Promise.all(files.map((f) => help(Deno.execPath(), ["run", "-A", f, "--help"])));
  files.forEach((f, i) => {
    const r = results[i];
    assertEquals(r.code, 0, `${f} --help: exit ${r.code}: ${r.err}`);
    assertMatch(r.out, /usage|deno run -A \S+|deno task \w+/i, `${f} --help says how to run it`);
    assert(!r.err.includes("== "), `${f} --help ran benchmarks: ${r.err}`);
  });
  // `deno task docs --help` must not rewrite README.md.
  assertEquals((await Deno.stat(new URL("README.md", root))).mtime, readme.mtime);
});

Deno.test("--help: ./task prints what it installs and runs, and installs nothing", async () => {
  const r = await help("bash", ["task", "--help"]);
  assertEquals(r.code, 0);
  assertMatch(r.out, /^\.\/task NAME \[ARGS\.\.\.\]/);
  for (const s of ["./task pipeline", "./task test", "Deno 2.9.6", "mesa-vulkan-drivers"]) assert(r.out.includes(s), s);
  assertEquals(r.err, "");
});
