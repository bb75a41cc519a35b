import { ApiGatewayManagementApiClient, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { encodeOutbound } from '../../../layers/protocol/conversation-relay.ts';
import type { ConnectionsEndpoint, PostResult, Sink } from '../engine/ports.ts';

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

/** The @connections URL for an API Gateway WebSocket event: https://{domainName}/{stage}. */
export function connectionsUrl(endpoint: ConnectionsEndpoint, env: NodeJS.ProcessEnv = process.env): string {
  if (env.CONNECTIONS_ENDPOINT) return env.CONNECTIONS_ENDPOINT;
  if (!endpoint.domainName) throw new Error('no @connections endpoint: the event has no domainName and CONNECTIONS_ENDPOINT is unset');
  return `https://${endpoint.domainName}/${endpoint.stage ?? ''}`.replace(/\/$/, '');
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
      const local = Boolean(env.CONNECTIONS_ENDPOINT);
      const client = new ApiGatewayManagementApiClient({
        endpoint: url,
        region: env.AWS_REGION ?? 'us-east-1',
        // A local @connections server accepts any credentials; fixed ones keep the SDK off the machine's profiles.
        ...(local && !env.AWS_ACCESS_KEY_ID ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
      });
      sink = createConnectionsSink(client);
      sinks.set(url, sink);
    }
    return sink;
  };
}
