import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';

/**
 * The one handle every data module takes: a document client plus the table name. Built once per container
 * (module scope in Lambda) so connections are reused across invocations.
 */
export interface Table {
  readonly doc: DynamoDBDocumentClient;
  readonly name: string;
}

export interface TableOptions {
  name: string;
  /** Local DynamoDB (dynalite or DynamoDB Local); unset in AWS. */
  endpoint?: string | undefined;
  region?: string | undefined;
}

export function createTable(options: TableOptions): Table {
  const config: DynamoDBClientConfig = { region: options.region ?? process.env.AWS_REGION ?? 'us-east-1' };
  if (options.endpoint) {
    config.endpoint = options.endpoint;
    // Local stand-ins accept any credentials; fixed ones keep the SDK from searching the machine for a profile.
    config.credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
  }
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient(config), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  return { doc, name: options.name };
}

/** Reads TABLE_NAME / DYNAMODB_ENDPOINT / AWS_REGION, the same names in Lambda and locally. */
export function tableFromEnv(env: NodeJS.ProcessEnv = process.env): Table {
  const name = env.TABLE_NAME;
  if (!name) throw new Error('TABLE_NAME is not set: it names the DynamoDB table (see 01_dynamodb)');
  return createTable({ name, endpoint: env.DYNAMODB_ENDPOINT || undefined, region: env.AWS_REGION });
}
