import { secret } from '../../../layers/config/secrets.ts';
import { twimlApiSettings } from '../../../layers/config/settings.ts';
import { getSession, tableFromEnv, type Table } from '../../../layers/data/index.ts';
import { logger as sharedLogger, type AppLogger } from '../../../layers/observability/logger.ts';
import { twimlResult, type HttpEvent, type HttpResult } from '../http.ts';
import { readSignedRequest, single } from '../signed-request.ts';
import { whisperTwiml } from '../twiml.ts';
import { twimlLambdaEntry } from '../lambda-entry.ts';
import { WHISPER_FALLBACK, whisperText } from '../whisper.ts';

/**
 * POST /whisper?session=<id>: Twilio asks, once the agent answers a live-agent handoff, what to play to the agent
 * before connecting the caller (`<Dial><Number url>`). Answers the handoff's summary. Signed requests only; any
 * failure still answers a short whisper, so the transfer goes through.
 */
export interface Deps {
  table: Table;
  authToken: () => Promise<string>;
  publicBaseUrl?: string | undefined;
  logger?: AppLogger;
}

export function createWhisperHandler(deps: Deps): (event: HttpEvent) => Promise<HttpResult> {
  const logger = deps.logger ?? sharedLogger;
  return async (event) => {
    const sessionId = event.queryStringParameters?.session || undefined;
    try {
      const signed = await readSignedRequest(event, { authToken: deps.authToken, publicBaseUrl: deps.publicBaseUrl, logger, route: 'whisper' });
      if (!signed.ok) return signed.result;
      const session = sessionId ? await getSession(deps.table, sessionId) : undefined;
      if (!session) logger.warn('Whisper for an unknown session; the agent hears only that a transfer is coming', { sessionId });
      logger.info('Whispering the handoff summary to the agent', { sessionId, callSid: single(signed.params.CallSid) });
      return twimlResult(whisperTwiml(whisperText(session)));
    } catch (err) {
      logger.error('Whisper failed; the agent hears only that a transfer is coming', { sessionId, error: err as Error });
      return twimlResult(whisperTwiml(WHISPER_FALLBACK));
    }
  };
}

/** AWS wiring, from the function's environment and SSM. */
export const handler = twimlLambdaEntry('Whisper', () => {
  const settings = twimlApiSettings();
  return createWhisperHandler({
    table: tableFromEnv(),
    authToken: () => secret('twilioAuthToken').get(),
    publicBaseUrl: settings.publicBaseUrl,
  });
});
