import type { TestProject } from 'vitest/node';
import { startLocalDynamo, type DynamoBackend, type LocalDynamo } from '../../dev/dynamodb/local-dynamodb.ts';

/**
 * Starts one server per DynamoDB backend for the whole run (tests create their own isolated tables in it) and
 * stops them at the end, so no process outlives the suite. DYNAMODB_BACKENDS=dynalite,dynamodb-local in CI.
 */
declare module 'vitest' {
  export interface ProvidedContext {
    dynamoEndpoints: Partial<Record<DynamoBackend, string>>;
  }
}

export default async function setup(project: TestProject) {
  // The setups run in vitest's own process, outside the projects' `env`: the SDK's notice about this machine's
  // Node 20 (Lambda runs 22) would be the only line the table setup prints.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  // The unit project never touches a table: a run of it alone (vitest --project unit) starts no server.
  const unitOnly = project.vitest.projects.every((p) => p.name === 'unit');
  const wanted = unitOnly ? [] : (process.env.DYNAMODB_BACKENDS ?? 'dynalite').split(',').map((s) => s.trim()).filter(Boolean);
  const started: LocalDynamo[] = [];
  const endpoints: Partial<Record<DynamoBackend, string>> = {};
  for (const backend of wanted) {
    if (backend !== 'dynalite' && backend !== 'dynamodb-local') throw new Error(`DYNAMODB_BACKENDS: unknown backend "${backend}"`);
    const dynamo = await startLocalDynamo({ backend });
    started.push(dynamo);
    endpoints[backend] = dynamo.endpoint;
  }
  project.provide('dynamoEndpoints', endpoints);
  return async () => {
    await Promise.all(started.map((d) => d.stop()));
  };
}
