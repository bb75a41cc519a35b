import type { ServerResponse } from 'node:http';
import type { ReplyError } from './reply.ts';

/** OpenAI's error body: `{ error: { message, type, param, code } }`; the SDK maps the status to its error classes. */
export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

export function openAiError(error: ReplyError, param: string | null = null): OpenAiErrorBody {
  return {
    error: {
      message: error.message,
      type: error.type ?? defaultType(error.status),
      param,
      code: error.code ?? defaultCode(error.status),
    },
  };
}

function defaultType(status: number): string {
  if (status === 429) return 'requests';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

function defaultCode(status: number): string | null {
  if (status === 429) return 'rate_limit_exceeded';
  if (status === 404) return 'not_found';
  return null;
}

/** Writes an error response unless the client has already gone; never throws. */
export function sendOpenAiError(res: ServerResponse, error: ReplyError, param: string | null = null): void {
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (error.retryAfterSeconds !== undefined) headers['retry-after'] = String(error.retryAfterSeconds);
  res.writeHead(error.status, headers);
  res.end(JSON.stringify(openAiError(error, param)));
}
