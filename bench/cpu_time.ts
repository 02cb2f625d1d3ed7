/** Process CPU time for the benches: lavapipe runs the GPU work on this process's worker threads. */
import { ignoreMissing } from "../pipeline/missing.ts";

/** CPU nanoseconds used by every thread of this process (lavapipe's workers included). */
export function cpuNs(): number {
  let total = 0;
  for (const task of Deno.readDirSync("/proc/self/task")) {
    try {
      total += Number(Deno.readTextFileSync(`/proc/self/task/${task.name}/schedstat`).split(" ")[0]);
    } catch (e) {
      ignoreMissing(e); // the thread exited
    }
  }
  return total;
}
