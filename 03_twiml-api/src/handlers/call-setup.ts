import * as z from 'zod/mini';
import '../../../layers/config/zod-locale.ts';
import { secret } from '../../../layers/config/secrets.ts';
import { twimlApiSettings } from '../../../layers/config/settings.ts';
import { newSessionId, tableFromEnv, type Table } from '../../../layers/data/index.ts';
import { logger as sharedLogger, type AppLogger } from '../../../layers/observability/logger.ts';
import { answerCall, IncomingCallSchema } from '../answer-call.ts';
import { twimlResult, type HttpEvent, type HttpResult } from '../http.ts';
import { publicBaseUrl } from '../public-url.ts';
import { flatParams, readSignedRequest, single } from '../signed-request.ts';
import { apologyTwiml } from '../twiml.ts';
import { twimlLambdaEntry } from '../lambda-entry.ts';

/**
 * POST /call-setup: Twilio's voice webhook. Signed requests only (403 otherwise, nothing written); answers with
 * `<Connect action><ConversationRelay/></Connect>` for a new session, or, whatever fails, a spoken apology and
 * `<Hangup/>` as 200 text/xml, never an application error.
 */
export interface Deps {
  table: Table;
  /** The Twilio auth token; called per request, so it should cache (the SSM reader does, for SECRETS_TTL_SECONDS). */
  authToken: () => Promise<string>;
  /** Reads the token again when a signature does not verify (a rotation); absent, a bad signature is refused at once. */
  refreshAuthToken?: () => Promise<string>;
  /** ConversationRelay WebSocket URL without query string; the session id is added as `?session=`. */
  websocketUrl: string;
  /** Overrides the URL rebuilt from the request (custom domain, local runtime). */
  publicBaseUrl?: string | undefined;
  /** The demo chooser; `default` when unset. */
  defaultUseCaseId?: string | undefined;
  /**
   * Local runtime only: answer with the use case a signed `UseCaseId` webhook parameter names (`npm run call --
   * --use-case <id>`). Never in AWS, where a request parameter must not choose what answers a caller.
   */
  useCaseParameter?: boolean;
  logger?: AppLogger;
  now?: () => Date;
  newSessionId?: () => string;
}

export type CallSetupHandler = (event: HttpEvent) => Promise<HttpResult>;

export function createCallSetupHandler(deps: Deps): CallSetupHandler {
  const logger = deps.logger ?? sharedLogger;
  const answerDeps = {
    table: deps.table,
    websocketUrl: deps.websocketUrl,
    defaultUseCaseId: deps.defaultUseCaseId ?? 'default',
    logger,
    now: deps.now ?? (() => new Date()),
    newSessionId: deps.newSessionId ?? newSessionId,
  };
  return async (event) => {
    let callSid: string | undefined;
    try {
      const signed = await readSignedRequest(event, {
        authToken: deps.authToken,
        refreshAuthToken: deps.refreshAuthToken,
        publicBaseUrl: deps.publicBaseUrl,
        logger,
        route: 'call-setup',
      });
      if (!signed.ok) return signed.result;
      callSid = single(signed.params.CallSid);
      const call = IncomingCallSchema.parse(flatParams(signed.params));
      const requested = deps.useCaseParameter ? requestedUseCaseId(signed.params) : undefined;
      const answered = await answerCall(answerDeps, call, publicBaseUrl(event, deps.publicBaseUrl), requested);
      logger.info(answered.replayed ? 'Call answered again (a repeated webhook): same session' : 'Call answered', {
        callSid,
        sessionId: answered.sessionId,
        useCaseId: answered.useCaseId,
      });
      return twimlResult(answered.twiml);
    } catch (err) {
      logger.error('Call setup failed; the caller hears an apology', { callSid, error: err as Error });
      return twimlResult(apologyTwiml());
    }
  };
}

const UseCaseIdParameter = z.optional(z.string().check(z.regex(/^[a-z0-9-]{1,64}$/, 'a use-case id (lowercase letters, digits and -)')));

/** The `UseCaseId` parameter, signed with the rest of the request like any Twilio webhook parameter. */
function requestedUseCaseId(params: Parameters<typeof flatParams>[0]): string | undefined {
  const parsed = UseCaseIdParameter.safeParse(flatParams(params).UseCaseId);
  if (!parsed.success) throw new Error(`UseCaseId: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** AWS wiring, from the function's environment and SSM. */
export const handler = twimlLambdaEntry('Call setup', () => {
  const settings = twimlApiSettings();
  if (!settings.websocketUrl) throw new Error('WEBSOCKET_URL is not set: the ConversationRelay WebSocket URL (02_cr-application export)');
  return createCallSetupHandler({
    table: tableFromEnv(),
    authToken: () => secret('twilioAuthToken').get(),
    refreshAuthToken: () => secret('twilioAuthToken').refresh(),
    websocketUrl: settings.websocketUrl,
    publicBaseUrl: settings.publicBaseUrl,
    defaultUseCaseId: settings.defaultUseCaseId,
  });
});
