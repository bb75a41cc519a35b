export { startGateway } from './gateway.ts';
export type {
  ConnectResult,
  ExtraHandler,
  Gateway,
  GatewayOptions,
  HttpRoute,
  PostLatency,
  RecordedPost,
  WebSocketEvent,
  WebSocketRequestContext,
  WebSocketRoutes,
} from './types.ts';
export { isLocalRequest, isLoopbackHost } from './local-request.ts';
