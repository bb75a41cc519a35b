export { startGateway } from './gateway.ts';
export type {
  ConnectResult,
  Gateway,
  GatewayOptions,
  HttpRoute,
  PostLatency,
  RecordedPost,
  WebSocketEvent,
  WebSocketRequestContext,
  WebSocketRoutes,
} from './types.ts';
