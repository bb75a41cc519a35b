import { PostToConnectionCommand, type ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { encodeOutbound } from '../../../layers/protocol/conversation-relay.ts';
import type { ConnectionsEndpoint, PostResult, Sink } from '../engine/ports.ts';
import { connectionsClient, connectionsUrl } from './connections-endpoint.ts';

const encoder = new TextEncoder();

function isGone(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'GoneException' || e?.$metadata?.httpStatusCode === 410;
}

/** PostToConnection on one @connections endpoint. Validates every frame (encodeOutbound) and never throws. */
export function createConnectionsSink(client: ApiGatewayManagementApiClient): Sink {
  return {
    async post(connectionId, message): Promise<PostResult> {
      const encoded = encodeOutbound(message);
      if (!encoded.ok) return { status: 'invalid' };
      try {
        await client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: encoder.encode(encoded.frame) }));
        return { status: 'sent' };
      } catch (err) {
        return isGone(err) ? { status: 'gone' } : { status: 'failed', error: err };
      }
    },
  };
}

/**
 * Sinks per endpoint, clients created once per container and reused. CONNECTIONS_ENDPOINT (the local runtime's
 * @connections URL) overrides the one derived from the event.
 */
export function connectionsSinkFactory(env: NodeJS.ProcessEnv = process.env): (endpoint: ConnectionsEndpoint) => Sink {
  const sinks = new Map<string, Sink>();
  return (endpoint) => {
    const url = connectionsUrl(endpoint, env);
    let sink = sinks.get(url);
    if (!sink) {
      sink = createConnectionsSink(connectionsClient(url, env));
      sinks.set(url, sink);
    }
    return sink;
  };
}
