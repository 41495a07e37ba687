/** Upper bounds a workflow document may use; larger values are validation problems. */

export const MAX_NODES = 1000;
export const MAX_EDGES = 5000;
export const MAX_CODE_TIMEOUT_MS = 60_000;
export const MAX_HTTP_TIMEOUT_MS = 300_000;
export const MAX_RETRY_ATTEMPTS = 10;
export const MAX_RETRY_BACKOFF_MS = 60_000;
/** A customCode source longer than this is refused: a node is a script, not a bundle. */
export const MAX_CODE_SOURCE_CHARS = 256 * 1024;
