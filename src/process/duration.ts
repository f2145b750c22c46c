/**
 * @module process/duration
 * Formats milliseconds the way durations are written in a topology file (`250ms`, `5s`, `2m`), for
 * messages such as "not ready within 5s" and for uptimes in `steward status` (`2m10s`, `1h5m`).
 */

/**
 * @example formatMs(5000) // "5s"
 * @example formatMs(1500) // "1.5s"
 * @example formatMs(120000) // "2m"
 * @example formatMs(130000) // "2m10s"
 * @example formatMs(250) // "250ms"
 */
export function formatMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${Math.round(ms / 100) / 10}s`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.round((ms % 60_000) / 1000);
  if (minutes < 60) return seconds ? `${minutes}m${seconds}s` : `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 ? `${hours}h${minutes % 60}m` : `${hours}h`;
}
