/**
 * The static shape of a workflow graph: edges resolved to (source, condition, target), a
 * deterministic topological order, cycles, reachability and ancestors. Validation reports
 * from it; the engine schedules with it.
 */

/** An edge whose source is resolved: `condition` is set for edges leaving a branch condition. */
export interface ResolvedEdge {
  id: string;
  source: string;
  condition?: string;
  target: string;
}

export interface GraphInfo {
  /** Node ids in a deterministic topological order (ties broken by position in `nodes`). */
  order: string[];
  /**
   * One cycle of each strongly connected component (self-loops included): node ids from the
   * component's first node in `nodes`, each with an edge to the next and the last to the first.
   */
  cycles: string[][];
  /** Node ids reachable from the trigger. */
  reachable: Set<string>;
  incoming: Map<string, ResolvedEdge[]>;
  outgoing: Map<string, ResolvedEdge[]>;
}

/**
 * Analyses the graph of `triggerId` plus `nodeIds` (in document order). Edges must already
 * point at known ids.
 */
export function analyzeGraph(triggerId: string, nodeIds: readonly string[], edges: readonly ResolvedEdge[]) {
  const position = new Map(nodeIds.map((id, i) => [id, i]));
  const incoming = new Map<string, ResolvedEdge[]>([triggerId, ...nodeIds].map((id) => [id, []]));
  const outgoing = new Map<string, ResolvedEdge[]>([triggerId, ...nodeIds].map((id) => [id, []]));
  for (const edge of edges) {
    incoming.get(edge.target)?.push(edge);
    outgoing.get(edge.source)?.push(edge);
  }

  // Kahn's algorithm, always taking the ready node that comes first in the document, so the
  // order depends on the workflow alone and never on timing.
  const indegree = new Map(nodeIds.map((id) => [id, 0]));
  for (const edge of edges) {
    if (edge.source !== triggerId && indegree.has(edge.target)) {
      indegree.set(edge.target, indegree.get(edge.target)! + 1);
    }
  }
  const ready = nodeIds.filter((id) => indegree.get(id) === 0);
  const order: string[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => position.get(a)! - position.get(b)!);
    const id = ready.shift()!;
    order.push(id);
    for (const edge of outgoing.get(id) ?? []) {
      const left = indegree.get(edge.target)! - 1;
      indegree.set(edge.target, left);
      if (left === 0) ready.push(edge.target);
    }
  }

  const ordered = new Set(order);
  const cycles =
    ordered.size === nodeIds.length
      ? []
      : findCycles(
          nodeIds.filter((id) => !ordered.has(id)),
          outgoing,
          position,
        );

  const reachable = new Set<string>();
  const queue = [triggerId];
  while (queue.length > 0) {
    const id = queue.shift()!;
    for (const edge of outgoing.get(id) ?? []) {
      if (!reachable.has(edge.target)) {
        reachable.add(edge.target);
        queue.push(edge.target);
      }
    }
  }
  return { order, cycles, reachable, incoming, outgoing } satisfies GraphInfo;
}

/**
 * Tarjan's strongly connected components over the nodes Kahn could not order, each reduced to
 * one of its cycles: a component with branches holds more nodes than any one cycle, and a
 * message listing them all would name edges that do not exist.
 */
function findCycles(
  rest: string[],
  outgoing: Map<string, ResolvedEdge[]>,
  position: Map<string, number>,
): string[][] {
  const inRest = new Set(rest);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let counter = 0;

  const visit = (v: string): void => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const edge of outgoing.get(v) ?? []) {
      const w = edge.target;
      if (!inRest.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      const selfLoop = (outgoing.get(v) ?? []).some((e) => e.target === v);
      if (component.length > 1 || selfLoop) {
        components.push(component.sort((a, b) => position.get(a)! - position.get(b)!));
      }
    }
  };
  for (const v of rest) if (!index.has(v)) visit(v);
  return components
    .sort((a, b) => position.get(a[0]!)! - position.get(b[0]!)!)
    .map((component) => shortestCycle(component, outgoing));
}

/**
 * The shortest cycle through the component's first node (breadth-first, edges in document
 * order, so the same workflow always names the same cycle). Every node of a component reaches
 * every other, so the search always gets back to the start.
 */
function shortestCycle(component: string[], outgoing: Map<string, ResolvedEdge[]>): string[] {
  const start = component[0]!;
  const inComponent = new Set(component);
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const edge of outgoing.get(v) ?? []) {
      const w = edge.target;
      if (w === start) {
        const cycle = [v];
        while (cycle[0] !== start) cycle.unshift(previous.get(cycle[0]!)!);
        return cycle;
      }
      if (inComponent.has(w) && !previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return component;
}

/** Every node from which `id` can be reached (its transitive predecessors), trigger included. */
export function ancestorsOf(id: string, incoming: Map<string, ResolvedEdge[]>): Set<string> {
  const seen = new Set<string>();
  const queue = [id];
  while (queue.length > 0) {
    const current = queue.shift()!;
    for (const edge of incoming.get(current) ?? []) {
      if (!seen.has(edge.source)) {
        seen.add(edge.source);
        queue.push(edge.source);
      }
    }
  }
  return seen;
}
