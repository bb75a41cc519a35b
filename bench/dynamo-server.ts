import { startLocalDynamo } from '../dev/dynamodb/local-dynamodb.ts';

/**
 * Child-process entry: dynalite on a free port, endpoint sent to the parent over IPC. The bench keeps the
 * database out of the process it measures, as DynamoDB is in AWS: its CPU never runs on the engine's event loop.
 * Exits when the parent disconnects (or dies).
 */
const dynamo = await startLocalDynamo({ backend: 'dynalite' });
process.send?.({ endpoint: dynamo.endpoint });
process.once('disconnect', () => {
  void dynamo.stop().finally(() => process.exit(0));
});
