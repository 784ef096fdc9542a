// Helpers shared by the interop scripts (each script drives the real aws-amplify client).

/** A JSON-safe copy of what the client returned. */
export const plain = (value) => JSON.parse(JSON.stringify(value ?? null));

/** The errors of a client result as `{errorType, message}`, the part every test compares. */
export const errorsOf = (result) =>
  (result.errors ?? []).map((e) => ({ errorType: e.errorType ?? null, message: e.message }));

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Wait until `predicate()` holds, polling every 25 ms; throws after `ms`. */
export async function until(predicate, what, ms = 20000) {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(25);
  }
}
