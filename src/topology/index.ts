/**
 * @module topology
 * The topology file (design §2): load, validate and compile it into a `CompiledTopology`; render
 * its per-replica templates at spawn time; walk its dependency graph.
 */
export type * from "./types.js";
export { loadTopology, parseTopology, displayPath, type LoadOptions } from "./load.js";
export { compileTopology, templateStrings, type CompileContext } from "./compile.js";
export { DEFAULTS, defaultOfflineCode, type CompiledRouteWithHold, type RouteHold } from "./defaults.js";
export { DependencyGraph, type GraphComponent } from "./graph.js";
export { interpolate, SPAWN_VARIABLES, type InterpolateOptions, type SpawnVariable } from "./interpolate.js";
export { renderTemplate, renderCommand, renderEnv, templateVariables, type TemplateVars } from "./render.js";
export {
  parseDuration,
  tryParseDuration,
  formatDuration,
  parseSize,
  tryParseSize,
  MAX_DURATION_MS,
  type ParseResult,
} from "./duration.js";
export { topologySchema, type TopologyInput } from "./schema.js";
export { didYouMean, nearest } from "./suggest.js";
