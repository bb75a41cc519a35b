import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import type { ConnectionsEndpoint } from '../engine/ports.ts';

/**
 * The @connections endpoint of a WebSocket event and its client, shared by the reply sink ($default) and the
 * reconnect probe ($connect). A module of its own so that $connect, which only asks whether a connection is
 * gone, does not bundle the sink and the protocol schemas it validates every frame with.
 */

/** The @connections URL for an API Gateway WebSocket event: https://{domainName}/{stage}. */
export function connectionsUrl(endpoint: ConnectionsEndpoint, env: NodeJS.ProcessEnv = process.env): string {
  if (env.CONNECTIONS_ENDPOINT) return env.CONNECTIONS_ENDPOINT;
  if (!endpoint.domainName) throw new Error('no @connections endpoint: the event has no domainName and CONNECTIONS_ENDPOINT is unset');
  return `https://${endpoint.domainName}/${endpoint.stage ?? ''}`.replace(/\/$/, '');
}

/** A client for one @connections URL. CONNECTIONS_ENDPOINT (the local runtime's @connections server) accepts any credentials. */
export function connectionsClient(url: string, env: NodeJS.ProcessEnv = process.env): ApiGatewayManagementApiClient {
  const local = Boolean(env.CONNECTIONS_ENDPOINT);
  return new ApiGatewayManagementApiClient({
    endpoint: url,
    region: env.AWS_REGION ?? 'us-east-1',
    // Fixed local credentials keep the SDK off the machine's profiles.
    ...(local && !env.AWS_ACCESS_KEY_ID ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
}
