import { XMLParser } from 'fast-xml-parser';

/** What ConversationRelay takes from the TwiML our call-setup webhook returns. */
export interface RelayTwiml {
  /** The WebSocket URL (with its query string) to open and sign. */
  url: string;
  /** Every attribute of `<ConversationRelay>`, as strings. */
  attributes: Record<string, string>;
  /** `<Parameter>` children: they come back to the app in `setup.customParameters`. */
  parameters: Record<string, string>;
  languages: Record<string, string>[];
  /** `<Connect action>`: requested when the session ends. */
  action?: string;
}

export type ParsedTwiml = { kind: 'relay'; relay: RelayTwiml } | { kind: 'other'; say: string[]; dial?: string; hangup: boolean };

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', parseAttributeValue: false, parseTagValue: false, textNodeName: '#text' });

function list<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

function text(node: unknown): string {
  if (typeof node === 'string') return node;
  if (node && typeof node === 'object' && '#text' in node) return String((node as Record<string, unknown>)['#text']);
  return '';
}

/** Parses TwiML the way Twilio would act on it (the subset a ConversationRelay call uses). */
export function parseTwiml(xml: string): ParsedTwiml {
  const doc = parser.parse(xml) as { Response?: Record<string, unknown> };
  const response = doc.Response;
  if (!response || typeof response !== 'object') throw new Error(`not TwiML (no <Response>): ${xml.slice(0, 200)}`);
  const connect = response.Connect as Record<string, unknown> | undefined;
  const relayNode = connect?.ConversationRelay as Record<string, unknown> | undefined;
  if (connect && relayNode) {
    const attributes: Record<string, string> = {};
    for (const [k, v] of Object.entries(relayNode)) if (typeof v !== 'object') attributes[k] = String(v);
    const parameters: Record<string, string> = {};
    for (const p of list(relayNode.Parameter as Record<string, string> | Record<string, string>[] | undefined)) parameters[p.name ?? ''] = p.value ?? '';
    const languages = list(relayNode.Language as Record<string, string> | Record<string, string>[] | undefined);
    if (!attributes.url) throw new Error('<ConversationRelay> has no url');
    const relay: RelayTwiml = { url: attributes.url, attributes, parameters, languages };
    if (typeof connect.action === 'string') relay.action = connect.action;
    return { kind: 'relay', relay };
  }
  const dialNode = response.Dial;
  const other: { kind: 'other'; say: string[]; dial?: string; hangup: boolean } = {
    kind: 'other',
    say: list(response.Say).map(text),
    hangup: 'Hangup' in response,
  };
  if (dialNode !== undefined) other.dial = text(dialNode) || text((dialNode as Record<string, unknown>).Number);
  return other;
}
