/**
 * A sweep as a graph of stage runs: every point runs each stage once, and a stage run is the same node for
 * two points when its params and its upstream nodes are the same (e.g. the extract both points read).
 * Executors that run stage runs as separate processes or cluster jobs schedule these nodes; each node is
 * "run the pipeline up to <stage> for <point>", whose upstreams are then cache hits.
 */
import { hashJson } from "./hash.ts";
import type { AnyStage } from "./run.ts";
import { resolveConfig, topoSort } from "./run.ts";
import type { SweepPoint } from "./sweep.ts";
import { partCount } from "./parts.ts";

export interface BranchNode {
  /** Content id of this stage run: stage, params and upstream node ids. */
  id: string;
  stage: string;
  /** The first point that needs this stage run (its config is what the job runs). */
  point: SweepPoint;
  /** Labels of every point that shares it. */
  points: string[];
  /** Node ids this one reads. */
  deps: string[];
  /** Set on the part nodes of a partitioned stage run: which part (the stage's own node then merges them). */
  part?: { index: number; count: number };
}

/** The deduplicated stage runs of `points`, in an order where every node comes after its deps. */
export function branchGraph(stages: readonly AnyStage[], points: SweepPoint[], until?: string): BranchNode[] {
  const sorted = topoSort(stages);
  const byName = new Map(sorted.map((s) => [s.name, s]));
  const wanted = new Set<string>();
  const add = (n: string) => {
    if (wanted.has(n)) return;
    wanted.add(n);
    byName.get(n)?.upstream.forEach(add);
  };
  if (until) add(until);
  else sorted.forEach((s) => wanted.add(s.name));
  const nodes = new Map<string, BranchNode>();
  // node id a sibling output comes from: a stage run whose output another one also writes (Stage.siblings)
  // waits for that one, and is then a cache hit instead of a second pass
  const writtenBy = new Map<string, string>();
  const nodeId = (stage: string, params: unknown, deps: string[]) => hashJson({ stage, params, deps }).slice(0, 16);
  for (const point of points) {
    const resolved = resolveConfig(stages, point.config);
    const ids = new Map<string, string>();
    for (const s of sorted) {
      if (!wanted.has(s.name)) continue;
      const deps = s.upstream.map((u) => ids.get(u)!);
      const id = nodeId(s.name, resolved[s.name], deps);
      ids.set(s.name, id);
      const writer = writtenBy.get(id);
      if (writer && !nodes.has(id)) deps.push(writer);
      for (const sib of s.siblings?.(resolved[s.name]) ?? []) {
        const sid = nodeId(s.name, sib, s.upstream.map((u) => ids.get(u)!));
        if (!writtenBy.has(sid)) writtenBy.set(sid, id);
      }
      const node = nodes.get(id);
      if (node) {
        node.points.push(point.label);
        continue;
      }
      // a partitioned stage run: one node per part, then the stage's node (the merge) after them all
      const count = partCount(s, resolved[s.name]);
      const parts = count > 1 ? Array.from({ length: count }, (_, index) => `${id}.p${index}`) : [];
      parts.forEach((pid, index) =>
        nodes.set(pid, { id: pid, stage: s.name, point, points: [point.label], deps, part: { index, count } })
      );
      nodes.set(id, { id, stage: s.name, point, points: [point.label], deps: [...deps, ...parts] });
    }
  }
  return [...nodes.values()];
}
