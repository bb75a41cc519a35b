import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

/**
 * CloudWatch metrics as EMF log lines (no API calls on the hot path). POWERTOOLS_METRICS_NAMESPACE sets the
 * namespace; flushed by the handler at the end of each invocation.
 */
export const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'ConversationRelay',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'conversation-relay',
});

export { MetricUnit };
