import { tableFromEnv, type Table } from '../../../layers/data/table.ts';
import { lazy } from '../../../layers/runtime/lazy.ts';

/** The table handle, once per container (its SDK client and connections are reused across invocations). */
export const awsTable: () => Table = lazy(() => tableFromEnv());
