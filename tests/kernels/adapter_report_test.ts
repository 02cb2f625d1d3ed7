/**
 * The adapter report in real child processes: as this machine is, and with the Vulkan loader pointed at
 * a driver file that does not exist (what a machine without mesa-vulkan-drivers looks like to wgpu), where
 * Deno's WebGPU falls back to OpenGL llvmpipe and the report must say so with the install command.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { probeAdapter } from "../../kernels/runtime/adapter_report.ts";

const NO_VULKAN = { VK_ICD_FILENAMES: "/nonexistent/icd.json", VK_DRIVER_FILES: "/nonexistent/icd.json" };
const kernels = new URL("../../kernels/runtime/", import.meta.url).href;
const SCRIPT = `import { getDevice } from "${kernels}device.ts";
import { adapterLine, adapterReport } from "${kernels}adapter_report.ts";
await getDevice();
const r = await adapterReport();
console.log(JSON.stringify({ ...r, line: adapterLine(r) }));`;

async function reportIn(env: Record<string, string>) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-config", SCRIPT],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim();
  assert(out.success, `child failed: ${new TextDecoder().decode(out.stderr)}`);
  return JSON.parse(text.split("\n").pop()!);
}

// What this machine offers, asked independently of the code under test.
const vulkan = await probeAdapter("vulkan");
const glOnly = await probeAdapter("gl", NO_VULKAN);

Deno.test({
  name: "adapter report: with a Vulkan driver, the adapter is named and on Vulkan, no warning",
  ignore: Deno.build.os !== "linux" || vulkan === null,
  async fn() {
    const r = await reportIn({});
    assertEquals([r.backend, r.description, r.warning], ["Vulkan", vulkan, null]);
    assertEquals(r.line, `WebGPU adapter: ${vulkan} via Vulkan${r.cpu ? " (on the CPU)" : ""}`);
  },
});

Deno.test({
  name: "adapter report: without a Vulkan driver, OpenGL llvmpipe is named with the slowdown and the fix",
  ignore: Deno.build.os !== "linux" || glOnly === null,
  async fn() {
    assertEquals(await probeAdapter("vulkan", NO_VULKAN), null, "the fake driver path hides Vulkan");
    const r = await reportIn(NO_VULKAN);
    assertEquals(r.backend, "OpenGL");
    assertEquals(r.description, glOnly);
    assertMatch(r.line, /^WebGPU adapter: .* via OpenGL/);
    if (/llvmpipe/.test(glOnly!)) {
      assertMatch(
        r.warning,
        /^no Vulkan driver found: WebGPU fell back to OpenGL llvmpipe, which trains ~13-17x slower than Vulkan lavapipe/,
      );
    }
    assertMatch(r.warning, /sudo apt-get install -y mesa-vulkan-drivers/);
    assert(!r.warning.includes("\n"));
  },
});

if (vulkan === null) console.error("adapter_report_test: no Vulkan adapter here; the Vulkan case is skipped");
if (glOnly === null) console.error("adapter_report_test: no OpenGL adapter here; the fallback case is skipped");
