/**
 * "This path may not exist" handling, in one place. A missing file or directory is an expected case in
 * a few places (optional inputs, a first run, cleanup of what may already be gone) and is caught as
 * `Deno.errors.NotFound`; every other error (permission denied, a full disk, a directory where a file
 * should be) propagates, so it is never reported as "not found" and never silently drops a cache object.
 */

/** True when `e` says the path does not exist. */
export function isMissing(e: unknown): boolean {
  return e instanceof Deno.errors.NotFound;
}

/** For `.catch(ignoreMissing)` and `catch (e) { ignoreMissing(e); … }`: swallows NotFound, rethrows the rest. */
export function ignoreMissing(e: unknown): void {
  if (!isMissing(e)) throw e;
}

/** `p`'s value, or `fallback` when it failed because the path does not exist. */
export async function ifMissing<T>(p: Promise<T>, fallback: T): Promise<T> {
  try {
    return await p;
  } catch (e) {
    ignoreMissing(e);
    return fallback;
  }
}

/** Rethrows `e` unless it is a JSON syntax error (a torn or partly written JSON file or line). */
export function ignoreBadJson(e: unknown): void {
  if (!(e instanceof SyntaxError)) throw e;
}
