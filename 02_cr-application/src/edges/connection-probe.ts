import { GetConnectionCommand, type ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import type { ConnectionsEndpoint } from '../engine/ports.ts';
import { connectionsClient, connectionsUrl } from './connections-endpoint.ts';

/**
 * Whether API Gateway no longer has a connection: GetConnection answers 410 GoneException for a closed one. A
 * reconnect can reach $connect before the dropped connection's $disconnect has run; this tells the two apart from
 * a second live connection. Clients are created once per endpoint and reused.
 */
export function connectionGoneProbe(env: NodeJS.ProcessEnv = process.env): (connectionId: string, endpoint: ConnectionsEndpoint) => Promise<boolean> {
  const clients = new Map<string, ApiGatewayManagementApiClient>();
  return async (connectionId, endpoint) => {
    const url = connectionsUrl(endpoint, env);
    let client = clients.get(url);
    if (!client) {
      client = connectionsClient(url, env);
      clients.set(url, client);
    }
    try {
      await client.send(new GetConnectionCommand({ ConnectionId: connectionId }));
      return false;
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e?.name === 'GoneException' || e?.$metadata?.httpStatusCode === 410) return true;
      throw err;
    }
  };
}
