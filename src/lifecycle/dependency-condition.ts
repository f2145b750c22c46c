/**
 * @module lifecycle/dependency-condition
 * Waiting for a dependency to reach the condition `depends_on` names (`started`, `ready`,
 * `completed`), failing as soon as it cannot any more (a replica failed, crashed, was killed or
 * went offline; or the dependency is simply not running).
 */
import type { EventBus } from "../events/events.js";
import type { DependencyCondition } from "../topology/types.js";
import type { Replica } from "./replica.js";

/**
 * Resolves once every replica of `dependency` reached `condition`; rejects with the reason when it
 * cannot. `attempt` is the dependency's own start in the same operation, awaited first.
 */
export async function reached(
  dependency: { spec: { name: string }; replicas: readonly Replica[] },
  condition: DependencyCondition,
  bus: EventBus,
  attempt: Promise<void> | undefined,
): Promise<void> {
  const { name } = dependency.spec;
  if (attempt) await attempt;
  const check = (): boolean | Error => {
    const replicas = dependency.replicas;
    const states = replicas.map((r) => r.state);
    if (condition === "completed" && replicas.every((r) => r.completed)) return true;
    if (condition === "ready" && states.every((s) => s === "ready")) return true;
    if (condition === "started" && states.every((s) => s === "running" || s === "ready")) return true;
    const broken = replicas.find((r) => ["failed", "crashed", "killed", "offline"].includes(r.state));
    if (broken)
      return new Error(
        `${name}[${broken.index}] is ${broken.state}: ${broken.record.reason ?? "no reason recorded"}`,
      );
    if (!attempt && states.every((s) => s === "stopped") && !replicas.every((r) => r.completed))
      return new Error(`${name} is not running`);
    return false;
  };
  await new Promise<void>((resolve, reject) => {
    const decide = (): boolean => {
      const verdict = check();
      if (verdict === false) return false;
      if (verdict === true) resolve();
      else reject(verdict);
      return true;
    };
    if (decide()) return;
    const unsubscribe = bus.subscribe((event) => {
      if (
        event.name.startsWith("replica:") &&
        "component" in event.data &&
        event.data.component === name &&
        decide()
      )
        unsubscribe();
    });
  });
}
