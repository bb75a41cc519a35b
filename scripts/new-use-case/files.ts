import type { UseCaseNames } from '../lib/use-case-names.ts';

/**
 * The files of a new use-case folder, from a neutral starting point (an information line with one example tool),
 * not from the demo chooser. Every name that depends on the id comes from `UseCaseNames`, so the folder passes
 * `use-cases:check` as written. A new kind of file (an eval, once the project has them) is one more entry in
 * `useCaseFiles`.
 */
export interface NewUseCase {
  names: UseCaseNames;
  /** How callers and the demo chooser hear it named, e.g. "Tony's Pizza". */
  displayName: string;
  /** The folder, e.g. `07_use-case-pizza`. */
  folder: string;
}

/** Relative path -> content, in the order they are written and listed. */
export function useCaseFiles(u: NewUseCase): Record<string, string> {
  return {
    'use-case/settings.json': settingsJson(u),
    'use-case/prompt.md': promptMd(u),
    'use-case/dtmf.json': dtmfJson(),
    'src/index.ts': indexTs(u),
    'src/handler.ts': handlerTs(),
    'src/hours.ts': hoursTs(),
    'src/tools/get-opening-hours.ts': toolTs(),
    'tests/get-opening-hours.test.ts': toolTestTs(u),
    'offline-model.json': offlineModelJson(u),
    'demo-call.txt': demoCallTxt(u),
    'template.yaml': templateYaml(u),
    'samconfig.toml': samconfigToml(u),
  };
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/** The phrase of the prompt that tells the offline model which script answers. */
export function promptSignature(u: NewUseCase): string {
  return `voice assistant of ${u.displayName}`;
}

function settingsJson(u: NewUseCase): string {
  return json({
    id: u.names.id,
    name: u.displayName,
    description: `${u.displayName}: opening hours and questions, by phone.`,
    listed: true,
    conversationRelay: {
      welcomeGreeting: `Hi, thanks for calling ${u.displayName}. How can I help?`,
      welcomeGreetingInterruptible: 'any',
      language: 'en-US',
      ttsProvider: 'Google',
      voice: 'en-US-Chirp3-HD-Aoede',
      transcriptionProvider: 'Deepgram',
      speechModel: 'nova-3-general',
      interruptible: 'any',
      dtmfDetection: true,
    },
    llm: { temperature: 0.3, maxToolRounds: 4 },
    filler: { afterMs: 800, text: 'One moment.' },
    timeZone: 'America/New_York',
  });
}

function promptMd(u: NewUseCase): string {
  return `You are the friendly ${promptSignature(u)}. You are speaking with a caller on the phone, so everything you
say is read aloud by a text to speech voice.

How you speak:
Keep every reply short: one to three sentences. Speak in plain, natural sentences. Never use markdown, bullet
points, numbered lists, emojis or special characters, because they are read aloud literally. Say numbers, times
and dates the way a person would say them.

What you know:
Today is {{today}} and it is {{currentTime}} in {{timeZone}}. The caller is calling from {{callerPhone}}. Their
name on file is {{callerName}}.

What to do:
When the caller asks when we are open, call get_opening_hours, with the day if they named one. They can also
press 1 on their keypad to hear this week's hours.
If a tool reports a problem, explain it briefly in plain words and ask the caller how they would like to go on.
Never make up facts that no tool gave you. If the caller asks about something you cannot help with, say so
politely.
`;
}

function dtmfJson(): string {
  return json({
    '1': {
      say: "Here are this week's opening hours.",
      tool: 'get_opening_hours',
      description: "The caller pressed 1 on the keypad to hear this week's opening hours.",
    },
  });
}

function indexTs(u: NewUseCase): string {
  return `import { fileURLToPath } from 'node:url';
import type { UseCaseModule } from '../../layers/tools/use-case.ts';
import { getOpeningHours } from './tools/get-opening-hours.ts';

/** ${u.displayName}: answers callers' questions about opening hours. */
export const useCase: UseCaseModule = {
  id: '${u.names.id}',
  dir: fileURLToPath(new URL('..', import.meta.url)),
  tools: [getOpeningHours],
};
`;
}

function handlerTs(): string {
  return `import { toLambdaHandler } from '../../layers/tools/lambda-handler.ts';
import { useCase } from './index.ts';

export const handler = toLambdaHandler(useCase.tools);
`;
}

function hoursTs(): string {
  return `/** The opening hours the example tool reads. Replace them with your own data (or a table of your own). */
export const DAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'] as const;
export type Day = (typeof DAYS)[number];

const HOURS: Record<Day, { opens: string; closes: string } | undefined> = {
  monday: { opens: '9 AM', closes: '5 PM' },
  tuesday: { opens: '9 AM', closes: '5 PM' },
  wednesday: { opens: '9 AM', closes: '5 PM' },
  thursday: { opens: '9 AM', closes: '8 PM' },
  friday: { opens: '9 AM', closes: '8 PM' },
  saturday: { opens: '10 AM', closes: '2 PM' },
  sunday: undefined,
};

export interface DayHours {
  day: string;
  open: boolean;
  opens?: string;
  closes?: string;
  /** The sentence a person would say, e.g. "Monday from 9 AM to 5 PM". */
  spoken: string;
}

export function hoursOn(day: Day): DayHours {
  const name = day[0]!.toUpperCase() + day.slice(1);
  const hours = HOURS[day];
  if (!hours) return { day: name, open: false, spoken: \`\${name} closed\` };
  return { day: name, open: true, ...hours, spoken: \`\${name} from \${hours.opens} to \${hours.closes}\` };
}
`;
}

function toolTs(): string {
  return `import { z } from 'zod';
import { defineTool } from '../../../layers/tools/define-tool.ts';
import { DAYS, hoursOn } from '../hours.ts';

export const getOpeningHours = defineTool({
  name: 'get_opening_hours',
  description: 'Tells when we are open: on one day, or every day of the week when no day is given.',
  parameters: z.object({
    day: z.enum(DAYS).optional().describe('The day the caller asked about, in lowercase; leave it out for the whole week'),
  }),
  async handler({ day }) {
    if (day) return { result: hoursOn(day) };
    return { result: { week: DAYS.map(hoursOn) } };
  },
});
`;
}

function toolTestTs(u: NewUseCase): string {
  return `import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createInProcessToolInvoker } from '../../layers/tools/in-process-invoker.ts';
import type { ToolInvoker } from '../../layers/tools/contract.ts';
import { createTestTable, type TestTable } from '../../tests/support/dynamo.ts';
import { deps, invocation } from '../../tests/tools/support.ts';
import { useCase } from '../src/index.ts';

/** The use case's tools, run the way the local runtime runs them: validation, identity and errors included. */
let table: TestTable;
let tools: ToolInvoker;
const call = (tool: string, args: unknown) => tools.invoke(invocation(tool, args, { useCaseId: '${u.names.id}' }), { timeoutMs: 5_000 });

beforeAll(async () => {
  table = await createTestTable();
  tools = createInProcessToolInvoker(useCase.tools, deps(table));
});
afterAll(async () => {
  await table.drop();
});

describe('get_opening_hours', () => {
  it('gives the hours of the day asked about, and a closed day as closed', async () => {
    expect(await call('get_opening_hours', { day: 'monday' })).toEqual({
      ok: true,
      result: { day: 'Monday', open: true, opens: '9 AM', closes: '5 PM', spoken: 'Monday from 9 AM to 5 PM' },
    });
    expect(await call('get_opening_hours', { day: 'sunday' })).toMatchObject({ ok: true, result: { open: false, spoken: 'Sunday closed' } });
  });

  it('gives the whole week when no day is named', async () => {
    const outcome = await call('get_opening_hours', {});
    expect(outcome).toMatchObject({ ok: true, result: { week: expect.arrayContaining([expect.objectContaining({ day: 'Saturday', opens: '10 AM' })]) } });
  });

  it('tells the LLM what was wrong with bad arguments', async () => {
    expect(await call('get_opening_hours', { day: 'someday' })).toMatchObject({
      ok: false,
      error: { code: 'invalid_arguments', message: expect.stringContaining('day: expected one of "monday"') },
    });
    expect(await call('get_opening_hours', { day: 'monday', phone: '+19995550000' })).toMatchObject({
      ok: false,
      error: { code: 'invalid_arguments', message: expect.stringContaining('unknown argument "phone"') },
    });
  });
});
`;
}

function offlineModelJson(u: NewUseCase): string {
  return json({
    name: u.displayName,
    description: `The offline model's script for ${u.displayName}: opening hours for a day or the week, by voice or keypad.`,
    match: { systemPromptIncludes: promptSignature(u) },
    examples: ['when are you open on monday', 'what are your opening hours'],
    rules: [
      {
        id: 'hours-on-a-day',
        when: { user: '\\b(?<day>monday|tuesday|wednesday|thursday|friday|saturday|sunday)\\b' },
        call: [{ tool: 'get_opening_hours', args: { day: '{{match.day:lowercase}}' } }],
      },
      {
        id: 'hours-this-week',
        when: { user: '\\b(hours|open|opening)\\b' },
        call: [{ tool: 'get_opening_hours', args: {} }],
      },
      {
        id: 'day-answer',
        when: { toolResult: 'get_opening_hours', has: 'result.day' },
        say: 'We are open {{result.spoken}}. Anything else?',
      },
      {
        id: 'week-answer',
        when: { toolResult: 'get_opening_hours', has: 'result.week' },
        say: 'We are open {{result.week.*.spoken}}. Anything else?',
      },
    ],
    fallback: { afterToolResult: 'Sorry, I could not look that up. {{result.error.message|Please try again.}}' },
  });
}

function demoCallTxt(u: NewUseCase): string {
  return `# ${u.displayName}, scripted: npm run call -- --use-case ${u.names.id} --script ${u.folder}/demo-call.txt
# npm test runs it too (tests/use-cases/every-use-case.test.ts). Format: docs/ADDING-A-USE-CASE.md.
say When are you open on Monday?
expect Monday from 9 AM to 5 PM
dtmf 1
expect Saturday from 10 AM to 2 PM
hangup
`;
}

function templateYaml(u: NewUseCase): string {
  const { names } = u;
  return `AWSTemplateFormatVersion: '2010-09-09'
Transform: AWS::Serverless-2016-10-31
Description: >-
  ConversationRelay use case "${names.id}" (${u.displayName.replace(/[^\w ,.'-]/g, '')}): the function that runs its tools. Its prompt,
  tool manifest and keypad map are loaded into the table by \`npm run use-cases:load\`. The engine may invoke it
  because its name matches cr-<env>-tools-*; no other stack changes when a tool is added.

Parameters:
  EnvironmentName:
    Type: String
    Default: prod
    AllowedPattern: '^[a-z0-9-]{1,16}$'
    Description: Short environment name (prod, dev, ...), used in resource names and tags.
  DynamoStackName:
    Type: String
    Default: cr-dynamodb
    Description: Stack of 01_dynamodb (exports the table).
  SendMessageStackName:
    Type: String
    Default: cr-send-message
    Description: Stack of 04_util-send-message (every tool gets a send-message client, so this use case may text).
  LogRetentionDays:
    Type: Number
    Default: 30
    AllowedValues: [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365]
    Description: How long the function's logs are kept.
  LogLevel:
    Type: String
    Default: INFO
    AllowedValues: [DEBUG, INFO, WARN, ERROR]

Resources:
  ToolsLogGroup:
    Type: AWS::Logs::LogGroup
    DeletionPolicy: Delete
    UpdateReplacePolicy: Delete
    Properties:
      LogGroupName: !Sub ${names.logGroupSub}
      RetentionInDays: !Ref LogRetentionDays

  ToolsFunction:
    Type: AWS::Serverless::Function
    Metadata:
      BuildMethod: esbuild
      BuildProperties:
        Format: esm
        Minify: true
        Target: es2022
        # ES module builds of the AWS SDK and others: about a third smaller and faster to import than their CommonJS builds.
        MainFields: module,main
        Sourcemap: true
        OutExtension:
          - .js=.mjs
        Banner:
          - js=import { createRequire } from 'module'; const require = createRequire(import.meta.url);
        EntryPoints:
          - ${names.handlerEntry(u.folder)}
    Properties:
      FunctionName: !Sub ${names.functionNameSub}
      Description: Tools of use case ${names.id} (get_opening_hours)
      CodeUri: ../
      Handler: handler.handler
      Runtime: nodejs22.x
      Architectures:
        - arm64
      MemorySize: 256
      Timeout: 10
      LoggingConfig:
        LogGroup: !Ref ToolsLogGroup
        LogFormat: JSON
      Environment:
        Variables:
          TABLE_NAME: !ImportValue
            Fn::Sub: \${DynamoStackName}-TableName
          SEND_MESSAGE_FUNCTION: !ImportValue
            Fn::Sub: \${SendMessageStackName}-SendMessageFunctionName
          POWERTOOLS_SERVICE_NAME: ${names.serviceName}
          POWERTOOLS_METRICS_NAMESPACE: ConversationRelay
          LOG_LEVEL: !Ref LogLevel
          NODE_OPTIONS: --enable-source-maps
      Policies:
        - Statement:
            # The send-message client every tool context carries (texts to the caller). When a tool reads or
            # writes the table, grant exactly those actions on exactly those keys here (dynamodb:LeadingKeys);
            # npm test checks this role against the SDK calls in the bundle.
            - Effect: Allow
              Action: lambda:InvokeFunction
              Resource: !ImportValue
                Fn::Sub: \${SendMessageStackName}-SendMessageFunctionArn
      Tags:
        app: conversation-relay
        environment: !Ref EnvironmentName

Outputs:
  ToolsFunctionArn:
    Description: ARN of the tool function of use case ${names.id}
    Value: !GetAtt ToolsFunction.Arn
`;
}

function samconfigToml(u: NewUseCase): string {
  const { stackName } = u.names;
  return `# SAM CLI settings for this stack: \`sam build && sam deploy\` in this folder, or \`npm run deploy\` at the repository
# root. "default" in the table names is the SAM CLI environment, not a use case: keep it.
version = 0.1

[default.global.parameters]
stack_name = "${stackName}"

[default.build.parameters]
use_container = false

[default.deploy.parameters]
stack_name = "${stackName}"
resolve_s3 = true
s3_prefix = "${stackName}"
capabilities = "CAPABILITY_IAM"
confirm_changeset = true
fail_on_empty_changeset = false

[default.delete.parameters]
stack_name = "${stackName}"
`;
}
