/**
 * Typed failures of the table layer. Callers branch on the class (a lost race is not an outage) and every error
 * carries the operation and key so a log line alone says what failed.
 */
export class StoreError extends Error {
  readonly operation: string;
  readonly key: Record<string, unknown> | undefined;

  constructor(operation: string, key: Record<string, unknown> | undefined, cause: unknown) {
    const reason = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`DynamoDB ${operation} failed${key ? ` for ${JSON.stringify(key)}` : ''}: ${reason}`, { cause });
    this.name = 'StoreError';
    this.operation = operation;
    this.key = key;
  }
}

/** A conditional write lost: someone else changed the item first (or it does not exist). */
export class ConditionFailedError extends StoreError {
  constructor(operation: string, key: Record<string, unknown> | undefined, cause: unknown) {
    super(operation, key, cause);
    this.name = 'ConditionFailedError';
  }
}

/** An item the caller needs is absent (unknown session, use case not loaded...). */
export class NotFoundError extends Error {
  readonly key: Record<string, unknown>;
  constructor(what: string, key: Record<string, unknown>) {
    super(`${what} not found: ${JSON.stringify(key)}`);
    this.name = 'NotFoundError';
    this.key = key;
  }
}

function isConditionalFailure(err: unknown): boolean {
  return (
    typeof err === 'object' &&
    err !== null &&
    'name' in err &&
    (err.name === 'ConditionalCheckFailedException' || err.name === 'TransactionCanceledException')
  );
}

/** Runs one DynamoDB call and maps its failure to a typed error with context; never swallows. */
export async function guard<T>(operation: string, key: Record<string, unknown> | undefined, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof StoreError) throw err;
    if (isConditionalFailure(err)) throw new ConditionFailedError(operation, key, err);
    throw new StoreError(operation, key, err);
  }
}
