/**
 * @module lifecycle/replica-ports
 * Ports around a replica's start: the `${port}` it gets (its previous one when still free, so a
 * restart keeps its address), and the refusal to start when a fixed tcp readiness port is already
 * held by another program — the probe would otherwise pass against the wrong program.
 */
import { allocatePort, isPortInUse, portHolder } from "../process/index.js";
import type { ReadySpec } from "../topology/types.js";
import { renderProbe, type ReplicaVars } from "./render.js";

/** The port for `${port}`: `previous` when it is still free, else a newly allocated one. */
export async function replicaPort(previous: number | null): Promise<number> {
  return previous !== null && !(await isPortInUse(previous)) ? previous : allocatePort();
}

/** Throws, naming the holder, when `ready` is a tcp probe on a port another program listens on. */
export async function assertReadyPortFree(ready: ReadySpec | undefined, vars: ReplicaVars): Promise<void> {
  if (ready?.kind !== "tcp") return;
  const port = Number(renderProbe(ready, vars).port);
  if (!Number.isInteger(port) || !(await isPortInUse(port))) return;
  const holder = portHolder(port);
  const by = holder ? ` by pid ${holder.pid} (${holder.command})` : "";
  throw new Error(`port ${port} is already in use${by}; stop that program or change the port`);
}
