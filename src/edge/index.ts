/**
 * @module edge
 * The built-in HTTP reverse proxy (design §5): routes, routing table, balancing, active and
 * passive health checks, hold, drain, WebSocket pass-through. See docs/edge.md.
 */
export type * from "./types.js";
export { Edge, EDGE_DEFAULTS, type EdgeOptions, type EdgeAddress } from "./edge.js";
export { RoutingTable, type RoutingTableOptions, type TransitionListener } from "./routing-table.js";
export type { EdgeComponent } from "./routed-component.js";
export {
  HealthChecker,
  HealthCounter,
  defaultProbeFactory,
  type ProbeFactory,
  type ProbeTarget,
} from "./health.js";
export { RoundRobin, LeastConn, createBalancer, type Balancer, type BalanceName } from "./balancer.js";
export { ANSWER, type Answer } from "./answers.js";
export { EdgeListenError, UnknownRouteTargetError } from "./errors.js";
export { isHopByHop } from "./headers.js";
