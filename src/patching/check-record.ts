/**
 * @module patching/check-record
 * One check of `patch validate` (patching/validate) as a record — `{ check, ok, detail }`, printed
 * as one line — and the timeout every store or cluster read of a check runs under.
 */

/** One check's outcome, printed as one line. */
export interface CheckRecord {
  check: string;
  ok: boolean;
  /** The numbers when it passed; the reason and what to do when it failed. */
  detail: string;
}

/** How long a store or cluster read may take before validate calls it unreachable. */
export const READ_TIMEOUT_MS = 5_000;

export const ok = (check: string, detail: string): CheckRecord => ({ check, ok: true, detail });
export const fail = (check: string, detail: string): CheckRecord => ({ check, ok: false, detail });

/** `work`, or an error saying `what` did not answer within READ_TIMEOUT_MS. */
export function timed<T>(what: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} did not answer within ${READ_TIMEOUT_MS / 1000} s`)),
      READ_TIMEOUT_MS,
    );
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}
