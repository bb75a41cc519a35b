import { secret } from '../../../layers/config/secrets.ts';
import { twimlApiSettings } from '../../../layers/config/settings.ts';
import { tableFromEnv, type Table } from '../../../layers/data/index.ts';
import { logger as sharedLogger, type AppLogger } from '../../../layers/observability/logger.ts';
import { afterSession, SessionEndedSchema } from '../after-session.ts';
import { lambdaAgentSmsDispatcher, type AgentSmsDispatcher } from '../agent-sms-dispatch.ts';
import { twimlResult, type HttpEvent, type HttpResult } from '../http.ts';
import { publicBaseUrl } from '../public-url.ts';
import { flatParams, readSignedRequest, single } from '../signed-request.ts';
import { apologyTwiml } from '../twiml.ts';
import { twimlLambdaEntry } from '../lambda-entry.ts';

/**
 * POST /connect-action?session=<id>: Twilio asks what to do once the ConversationRelay session has ended.
 * Live-agent handoff -> a short line and `<Dial>` the agent; otherwise a goodbye and `<Hangup/>`. Signed
 * requests only; the outcome is recorded on the session; any failure still answers valid TwiML.
 */
export interface Deps {
  table: Table;
  /** The Twilio auth token; called per request, so it should cache (the SSM reader does, for SECRETS_TTL_SECONDS). */
  authToken: () => Promise<string>;
  /** Reads the token again when a signature does not verify (a rotation); absent, a bad signature is refused at once. */
  refreshAuthToken?: () => Promise<string>;
  /** Overrides the URL rebuilt from the request (custom domain, local runtime). */
  publicBaseUrl?: string | undefined;
  /** E.164 number or sip: URI dialed for a live-agent handoff; without it the caller hears that no one is free. */
  agentNumber?: string | undefined;
  /** Texts the handoff summary to the agent when the session's use case sets `handoff.agentSms`. */
  agentSms?: AgentSmsDispatcher | undefined;
  logger?: AppLogger;
  now?: () => Date;
}

export type ConnectActionHandler = (event: HttpEvent) => Promise<HttpResult>;

export function createConnectActionHandler(deps: Deps): ConnectActionHandler {
  const logger = deps.logger ?? sharedLogger;
  const afterDeps = { table: deps.table, agentNumber: deps.agentNumber, agentSms: deps.agentSms, logger, now: deps.now ?? (() => new Date()) };
  return async (event) => {
    let callSid: string | undefined;
    const sessionId = event.queryStringParameters?.session || undefined;
    try {
      const signed = await readSignedRequest(event, {
        authToken: deps.authToken,
        refreshAuthToken: deps.refreshAuthToken,
        publicBaseUrl: deps.publicBaseUrl,
        logger,
        route: 'connect-action',
      });
      if (!signed.ok) return signed.result;
      callSid = single(signed.params.CallSid);
      const ended = SessionEndedSchema.parse(flatParams(signed.params));
      const step = await afterSession(afterDeps, sessionId, ended, publicBaseUrl(event, deps.publicBaseUrl));
      return twimlResult(step.twiml);
    } catch (err) {
      logger.error('Connect action failed; the caller hears an apology', { callSid, sessionId, error: err as Error });
      return twimlResult(apologyTwiml());
    }
  };
}

/** AWS wiring, from the function's environment and SSM. */
export const handler = twimlLambdaEntry('Connect action', () => {
  const settings = twimlApiSettings();
  return createConnectActionHandler({
    table: tableFromEnv(),
    authToken: () => secret('twilioAuthToken').get(),
    refreshAuthToken: () => secret('twilioAuthToken').refresh(),
    publicBaseUrl: settings.publicBaseUrl,
    agentNumber: settings.agentNumber,
    ...(settings.agentSmsFunction ? { agentSms: lambdaAgentSmsDispatcher(settings.agentSmsFunction) } : {}),
  });
});
