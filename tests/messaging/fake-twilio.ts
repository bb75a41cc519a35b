import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local HTTP server that speaks the slice of Twilio's REST API we use: `POST /2010-04-01/Accounts/{sid}/Messages.json`
 * with a form body and basic auth. It records every request and answers like Twilio: 201 with a Message resource,
 * or Twilio's error JSON for numbers registered as invalid and for bad credentials.
 */
export interface RecordedTwilioRequest {
  method: string;
  path: string;
  contentType: string | undefined;
  /** Decoded basic-auth user and password. */
  auth: { user: string; password: string } | undefined;
  form: Record<string, string>;
}

export interface FakeTwilio {
  baseUrl: string;
  requests: RecordedTwilioRequest[];
  /** `To` values that get Twilio's 400 / 21211 "not a valid phone number". */
  invalidNumbers: Set<string>;
  close(): Promise<void>;
}

export async function startFakeTwilio(credentials: { accountSid: string; authToken: string }): Promise<FakeTwilio> {
  const requests: RecordedTwilioRequest[] = [];
  const invalidNumbers = new Set<string>();
  let counter = 0;
  const server: Server = createServer(async (req, res) => {
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const auth = decodeBasicAuth(req.headers.authorization);
    const form = Object.fromEntries(new URLSearchParams(body));
    requests.push({ method: req.method ?? '', path: url.pathname, contentType: req.headers['content-type'], auth, form });
    const reply = (status: number, json: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec(url.pathname);
    if (req.method !== 'POST' || !match) return reply(404, { code: 20404, message: 'The requested resource was not found', status: 404 });
    if (!auth || auth.user !== credentials.accountSid || auth.password !== credentials.authToken || match[1] !== auth.user) {
      return reply(401, { code: 20003, message: 'Authenticate', more_info: 'https://www.twilio.com/docs/errors/20003', status: 401 });
    }
    const to = form.To ?? '';
    if (!to) return reply(400, { code: 21604, message: "A 'To' phone number is required.", status: 400 });
    if (invalidNumbers.has(to.replace(/^whatsapp:/, ''))) {
      return reply(400, {
        code: 21211,
        message: `The 'To' number ${to} is not a valid phone number.`,
        more_info: 'https://www.twilio.com/docs/errors/21211',
        status: 400,
      });
    }
    counter += 1;
    const sid = `SM${String(counter).padStart(32, '0')}`;
    return reply(201, {
      sid,
      account_sid: auth.user,
      to,
      from: form.From ?? null,
      messaging_service_sid: form.MessagingServiceSid ?? null,
      body: form.Body,
      status: 'queued',
      direction: 'outbound-api',
      num_segments: '1',
      date_created: new Date().toUTCString(),
      uri: `/2010-04-01/Accounts/${auth.user}/Messages/${sid}.json`,
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    requests,
    invalidNumbers,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (data += chunk));
    req.on('end', () => resolve(data));
    req.on('error', reject);
  });
}

function decodeBasicAuth(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^Basic (.+)$/.exec(header ?? '');
  if (!m?.[1]) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const i = decoded.indexOf(':');
  return i < 0 ? undefined : { user: decoded.slice(0, i), password: decoded.slice(i + 1) };
}
