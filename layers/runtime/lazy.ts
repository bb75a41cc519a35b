/**
 * A value built on first use and kept for the container's life: SDK clients, handler factories, modules that
 * cost cold-start time. One helper for every per-container singleton, so each entry point reads the same way and
 * none can be built twice by accident. A build that throws is not kept: the next call tries again (a setting
 * fixed, a transient failure gone).
 */
export function lazy<T>(build: () => T): () => T {
  let built = false;
  let value: T;
  return () => {
    if (!built) {
      value = build();
      built = true;
    }
    return value;
  };
}
