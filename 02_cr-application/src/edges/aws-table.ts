import { tableFromEnv, type Table } from '../../../layers/data/table.ts';

/** The table handle, once per container (its SDK client and connections are reused across invocations). */
let table: Table | undefined;
export const awsTable = (): Table => (table ??= tableFromEnv());
