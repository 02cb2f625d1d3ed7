/** Test assertions (jsr:@std/assert is unreachable here): thin wrappers over node:assert with std's names. */
import nodeAssert from "node:assert/strict";

export function assert(cond: unknown, msg?: string): asserts cond {
  nodeAssert.ok(cond, msg ?? "assertion failed");
}

export function assertEquals<T>(actual: T, expected: T, msg?: string): void {
  nodeAssert.deepStrictEqual(actual, expected, msg ?? undefined as unknown as string);
}

export function assertMatch(actual: string, re: RegExp, msg?: string): void {
  nodeAssert.match(actual, re, msg ?? undefined as unknown as string);
}

export function assertAlmostEquals(actual: number, expected: number, tol = 1e-7, msg?: string): void {
  if (!(Math.abs(actual - expected) <= tol)) {
    throw new nodeAssert.AssertionError({ message: msg ?? `${actual} is not within ${tol} of ${expected}` });
  }
}

export function assertThrows<E extends Error = Error>(
  fn: () => unknown,
  // deno-lint-ignore no-explicit-any
  type?: new (...args: any[]) => E,
): E {
  try {
    fn();
  } catch (e) {
    if (type && !(e instanceof type)) {
      throw new nodeAssert.AssertionError({ message: `expected ${type.name}, got ${e}` });
    }
    return e as E;
  }
  throw new nodeAssert.AssertionError({ message: "expected the function to throw" });
}

export async function assertRejects<E extends Error = Error>(
  fn: () => Promise<unknown>,
  // deno-lint-ignore no-explicit-any
  type?: new (...args: any[]) => E,
): Promise<E> {
  try {
    await fn();
  } catch (e) {
    if (type && !(e instanceof type)) {
      throw new nodeAssert.AssertionError({ message: `expected ${type.name}, got ${e}` });
    }
    return e as E;
  }
  throw new nodeAssert.AssertionError({ message: "expected the promise to reject" });
}
