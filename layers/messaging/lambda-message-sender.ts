import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { MessageSendError, OutgoingMessageSchema, SendMessageResponseSchema, type MessageSender } from './message-sender.ts';

/**
 * AWS implementation: invokes 04_util-send-message (synchronously, so the tool can tell the caller whether the
 * text went out). The Lambda client is created once per container.
 */
export function createLambdaMessageSender(options: { functionName: string; client?: LambdaClient }): MessageSender {
  const client = options.client ?? new LambdaClient({});
  return {
    async send(message) {
      const request = OutgoingMessageSchema.parse(message);
      const out = await client.send(
        new InvokeCommand({ FunctionName: options.functionName, Payload: new TextEncoder().encode(JSON.stringify(request)) }),
      );
      const text = out.Payload ? new TextDecoder().decode(out.Payload) : '';
      if (out.FunctionError) {
        throw new Error(`send-message function ${options.functionName} failed (${out.FunctionError}): ${text.slice(0, 500)}`);
      }
      const response = SendMessageResponseSchema.parse(JSON.parse(text || 'null'));
      if (!response.ok) {
        throw new MessageSendError(response.error.message, { twilioCode: response.error.twilioCode, status: response.error.status });
      }
      return response.result;
    },
  };
}
