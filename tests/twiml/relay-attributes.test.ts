import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { relayTwiml } from '../../03_twiml-api/src/twiml.ts';
import {
  ConversationRelaySettingsSchema,
  extraAttributesWarning,
  RELAY_ATTRIBUTE_NAMES,
  RelayAttributesShape,
  stripControlCharacters,
  type ConversationRelaySettings,
} from '../../layers/data/relay-settings.ts';
import { parseTwiml } from './support.ts';

/**
 * The attribute list comes from the installed SDK's typings, so an SDK release that adds an attribute fails here
 * until the settings type it. The typings spell a few names in lower case (`speechtimeout`); Twilio's TwiML
 * reference and the product use camelCase, which is what we write, so names are matched without case.
 */
function attributesInSdkTypings(): string[] {
  const typings = createRequire(import.meta.url).resolve('twilio/lib/twiml/VoiceResponse.d.ts');
  const source = readFileSync(typings, 'utf8');
  const body = /interface ConversationRelayAttributes \{([^}]*)\}/.exec(source)?.[1];
  if (!body) throw new Error(`no ConversationRelayAttributes in ${typings}`);
  return Array.from(body.matchAll(/^\s*(\w+)\??:/gm), (m) => m[1] as string);
}

/** A value the schema accepts for an attribute, found by trying the shapes attributes come in. */
function sampleValue(name: keyof typeof RelayAttributesShape): string | number | boolean {
  const candidates = ['any', 'on', 'medium', '0.5', true, 0.5, 1200, 'sample value'];
  const value = candidates.find((c) => RelayAttributesShape[name].safeParse(c).success && c !== undefined);
  if (value === undefined) throw new Error(`no sample value for ${name}`);
  return value;
}

const render = (settings: ConversationRelaySettings) =>
  parseTwiml(relayTwiml({ websocketUrl: 'wss://relay.example/ws?session=s1', actionUrl: 'https://api.example/connect-action', settings })).Connect
    .ConversationRelay as Record<string, unknown>;

describe('<ConversationRelay> attributes', () => {
  it('types every attribute the installed twilio typings list, and renders each under its TwiML name', () => {
    const fromTypings = attributesInSdkTypings().filter((n) => n !== 'url');
    expect(fromTypings.length).toBeGreaterThan(20);
    const typed = new Map(RELAY_ATTRIBUTE_NAMES.map((n) => [n.toLowerCase(), n]));
    const missing = fromTypings.filter((n) => !typed.has(n.toLowerCase()));
    expect(missing, 'attributes in the SDK typings that the settings do not type').toEqual([]);

    const settings = Object.fromEntries(RELAY_ATTRIBUTE_NAMES.map((n) => [n, sampleValue(n)]));
    const parsed = ConversationRelaySettingsSchema.parse(settings);
    const relay = render(parsed);
    for (const sdkName of fromTypings) {
      const name = typed.get(sdkName.toLowerCase())!;
      expect(relay[name], name).toBe(String(settings[name]));
    }
  });

  it('accepts the attributes authors were refused before', () => {
    const parsed = ConversationRelaySettingsSchema.safeParse({
      events: 'speaker-events,tokens-played',
      deepgramSmartFormat: true,
      backgroundNoiseReduction: true,
      eotThreshold: 0.7,
      conversationConfiguration: 'CC0123456789abcdef0123456789abcdef',
      applicationReconnect: true,
    });
    expect(parsed.success, parsed.error?.message).toBe(true);
  });

  it('passes unknown attributes through extraAttributes, escaped, and names them in a warning', () => {
    const settings = ConversationRelaySettingsSchema.parse({ voice: 'en-US-Chirp3-HD-Aoede', extraAttributes: { futureFeature: `a<b&"c"`, turnDetection: 3, loud: false } });
    const relay = render(settings);
    expect(relay.futureFeature).toBe(`a<b&"c"`);
    expect(relay.turnDetection).toBe('3');
    expect(relay.loud).toBe('false');
    expect(extraAttributesWarning(settings)).toBe(
      'conversationRelay.extraAttributes: futureFeature, turnDetection, loud are not typed by this release; written to the TwiML unchecked',
    );
    expect(extraAttributesWarning(ConversationRelaySettingsSchema.parse({}))).toBeUndefined();
  });

  it('refuses extra attribute names that are invalid XML names, typed settings in disguise, or ours', () => {
    const issues = (extraAttributes: Record<string, unknown>) =>
      ConversationRelaySettingsSchema.safeParse({ extraAttributes }).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(issues({ '1bad': 'x' })[0]).toMatch(/^extraAttributes\.1bad: attribute names are letters/);
    expect(issues({ 'bad name': 'x' })[0]).toMatch(/attribute names are letters/);
    expect(issues({ speechtimeout: '2' })).toEqual(['extraAttributes.speechtimeout: "speechtimeout" is a typed setting: set conversationRelay.speechTimeout instead']);
    expect(issues({ url: 'wss://elsewhere' })).toEqual(['extraAttributes.url: "url" is set by the app, not the use case']);
  });

  it('refuses control characters in every string that reaches TwiML, naming the field', () => {
    const issues = (settings: unknown) =>
      ConversationRelaySettingsSchema.safeParse(settings).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(issues({ welcomeGreeting: 'Hello\u0007there' })).toEqual(['welcomeGreeting: contains the control character U+0007 at position 5; TwiML cannot carry it']);
    expect(issues({ hints: 'a,\nb' })).toEqual(['hints: contains the control character U+000A at position 2; TwiML cannot carry it']);
    expect(issues({ languages: [{ code: 'es-US', voice: 'v\u0000' }] })).toEqual(['languages.0.voice: contains the control character U+0000 at position 1; TwiML cannot carry it']);
    expect(issues({ customParameters: { tier: 'gold\u001b' } })).toEqual(['customParameters.tier: contains the control character U+001B at position 4; TwiML cannot carry it']);
    expect(issues({ extraAttributes: { futureFeature: '\u0085' } })).toEqual(['extraAttributes.futureFeature: contains the control character U+0085 at position 0; TwiML cannot carry it']);
  });

  it('strips control characters from values filled in per call, so the TwiML stays well-formed', () => {
    expect(stripControlCharacters('Hi Ana\u0000 \u0007Ruiz')).toBe('Hi Ana Ruiz');
    const relay = render({ welcomeGreeting: 'Hi Ana\u0001Ruiz.' });
    expect(relay.welcomeGreeting).toBe('Hi Ana Ruiz.');
  });
});
