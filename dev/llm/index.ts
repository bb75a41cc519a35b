/** A local OpenAI-compatible Chat Completions server, and the scripted offline model built on it (README.md). */
export { startLlmServer, preciseNow, type LlmServer, type LlmServerOptions, type RecordedRequest } from './server.ts';
export type { Reply, ReplyError, ReplyToolCall, Responder, Timing } from './reply.ts';
export {
  ChatCompletionRequestSchema,
  messageText,
  type ChatCompletionRequest,
  type ChatMessage,
  type ToolChoice,
  type ToolDefinition,
} from './request-schema.ts';
export { splitIntoTokens } from './tokens.ts';
export {
  findOfflineScriptFiles,
  loadOfflineScript,
  loadOfflineScripts,
  OFFLINE_SCRIPT_FILE,
  OfflineScriptError,
} from './offline/script-files.ts';
export { OfflineScriptSchema, type OfflineScript, type OfflineScriptInput } from './offline/script-schema.ts';
export { createScriptedResponder, NO_SCRIPT_REPLY } from './offline/scripted-responder.ts';
export {
  OFFLINE_MODEL_TIMING,
  startOfflineModel,
  type OfflineModel,
  type OfflineModelOptions,
} from './offline/start-offline-model.ts';
