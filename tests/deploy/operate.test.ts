import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Resource, Template } from '../../scripts/lib/cfn-yaml.ts';
import { functionEnvironment } from '../../scripts/lib/function-env.ts';
import { evaluateCondition, functionStatements, grants, resolveIfs, transformedTemplate } from '../../scripts/lib/iam.ts';
import { render } from '../../scripts/lib/intrinsics.ts';
import { layersOf } from '../../scripts/lib/layer-build.ts';
import { MIN_SAM_CLI_VERSION } from '../../scripts/lib/sam-cli.ts';
import { serverlessFunctions, type Stack } from '../../scripts/lib/stacks.ts';
import { CFN_LINT_MISSING, cfnLint, repoStacks, ROOT } from './support.ts';

/**
 * What an operator of the deployed stacks relies on, checked offline on the templates (and on SAM's expansion of
 * them): names that do not collide between environments, a WebSocket stage that follows route changes, least
 * privilege for secrets, a KMS option wherever SSM is read, failed continuations kept and alarmed on, throttled
 * and logged webhooks, alarms that reach a topic and watch metrics the code really emits, a dashboard that parses.
 */
const { stacks } = repoStacks();
const stack = (folder: string) => stacks.find((s) => s.folder === folder)!;
const withParameters = (s: Stack, overrides: Record<string, string>): Stack => ({ ...s, parameters: { ...s.parameters, ...overrides } });
const resourcesOf = (t: Template, type: string) => Object.entries(t.Resources).filter(([, r]) => r.Type === type);

const transformed = new Map<string, Promise<Template>>();
const transform = (s: Stack) => {
  if (!transformed.has(s.folder)) transformed.set(s.folder, transformedTemplate(s.templatePath));
  return transformed.get(s.folder)!;
};

/** Metric names the code publishes (EMF through Powertools), with Powertools' own cold-start metric. */
function emittedMetrics(): Set<string> {
  const names = new Set(['ColdStart']);
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((f) => {
      const p = join(dir, f);
      return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
    });
  for (const file of [...walk(join(ROOT, '02_cr-application/src')), ...walk(join(ROOT, 'layers'))]) {
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:addMetric|countMetric)\(\s*'(\w+)'/g)) names.add(m[1]!);
  }
  return names;
}

/** Every ConversationRelay metric a value tree names (alarm MetricStat or Metric, or a dashboard metrics row). */
function conversationRelayMetrics(value: unknown): string[] {
  const out: string[] = [];
  const visit = (v: unknown): void => {
    if (Array.isArray(v)) {
      if (v[0] === 'ConversationRelay' && typeof v[1] === 'string') out.push(v[1]);
      v.forEach(visit);
    } else if (v && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (o.Namespace === 'ConversationRelay' && typeof o.MetricName === 'string') out.push(o.MetricName);
      Object.values(o).forEach(visit);
    }
  };
  visit(value);
  return out;
}

describe('ready to operate: names, stage, secrets, failures, throttling (templates as written)', () => {
  it('the WebSocket stage deploys itself on route and integration changes (no Deployment frozen under a fixed logical id)', () => {
    for (const s of stacks) {
      const apis = resourcesOf(s.template, 'AWS::ApiGatewayV2::Api').filter(([, r]) => r.Properties?.ProtocolType === 'WEBSOCKET');
      for (const [apiId] of apis) {
        const stages = resourcesOf(s.template, 'AWS::ApiGatewayV2::Stage').filter(([, r]) => (r.Properties?.ApiId as { Ref?: string })?.Ref === apiId);
        expect(stages.length, `${s.folder}: a stage for ${apiId}`).toBeGreaterThan(0);
        for (const [id, r] of stages) expect(r.Properties?.AutoDeploy, `${s.folder}/${id} AutoDeploy`).toBe(true);
        expect(resourcesOf(s.template, 'AWS::ApiGatewayV2::Deployment').map(([id]) => `${s.folder}/${id}`)).toEqual([]);
        for (const [id, r] of stages) {
          const settings = r.Properties?.DefaultRouteSettings as Record<string, unknown> | undefined;
          expect(settings?.ThrottlingRateLimit, `${s.folder}/${id} throttling`).toBeDefined();
          expect(settings?.ThrottlingBurstLimit, `${s.folder}/${id} throttling`).toBeDefined();
        }
      }
    }
  });

  it('$default is not given the Twilio auth token (it checks no signature); $connect is', () => {
    const s = stack('02_cr-application');
    const fns = serverlessFunctions(s);
    const env = (id: string) => functionEnvironment(fns.find((f) => f.functionId === id)!);
    expect(env('DefaultFunction').TWILIO_AUTH_TOKEN_PARAM).toBeUndefined();
    expect(env('ConnectFunction').TWILIO_AUTH_TOKEN_PARAM).toBe(s.parameters.TwilioAuthTokenParam);
    const policyText = (id: string) => JSON.stringify(fns.find((f) => f.functionId === id)!.properties.Policies);
    expect(policyText('DefaultFunction')).not.toContain('TwilioAuthTokenParam');
    expect(policyText('ConnectFunction')).toContain('TwilioAuthTokenParam');
  });

  it('secrets are re-read after a TTL the stacks set (SECRETS_TTL_SECONDS, default 300 s) wherever a function reads SSM', () => {
    for (const s of stacks) {
      for (const fn of serverlessFunctions(s)) {
        const env = functionEnvironment(fn);
        if (!Object.keys(env).some((k) => /^(TWILIO_AUTH_TOKEN|OPENAI_API_KEY)_PARAM$/.test(k))) continue;
        expect(env.SECRETS_TTL_SECONDS, `${s.folder}/${fn.functionId}`).toBe('300');
      }
    }
  });

  it('the shared layer is built for arm64, like every function that loads it', () => {
    const layers = stacks.flatMap(layersOf);
    expect(layers.length).toBeGreaterThan(0);
    for (const layer of layers) {
      const r = layer.stack.template.Resources[layer.layerId]!;
      expect(r.Metadata?.BuildArchitecture, `${layer.stack.folder}/${layer.layerId} Metadata.BuildArchitecture`).toBe('arm64');
      expect(r.Properties?.CompatibleArchitectures).toEqual(['arm64']);
    }
  });

  it('the HTTP API throttles and writes JSON access logs to a log group with a retention', () => {
    const apis = stacks.flatMap((s) => resourcesOf(s.template, 'AWS::Serverless::HttpApi').map(([id, r]) => ({ s, id, r })));
    expect(apis.length).toBeGreaterThan(0);
    for (const { s, id, r } of apis) {
      const p = r.Properties ?? {};
      const throttle = p.DefaultRouteSettings as Record<string, unknown> | undefined;
      expect(throttle?.ThrottlingRateLimit, `${s.folder}/${id}`).toBeDefined();
      expect(throttle?.ThrottlingBurstLimit, `${s.folder}/${id}`).toBeDefined();
      const logs = p.AccessLogSettings as { DestinationArn?: { 'Fn::GetAtt'?: [string, string] }; Format?: string } | undefined;
      const group = logs?.DestinationArn?.['Fn::GetAtt']?.[0];
      expect(group && s.template.Resources[group]?.Type, `${s.folder}/${id} access logs to a log group of the stack`).toBe('AWS::Logs::LogGroup');
      expect(s.template.Resources[group!]!.Properties?.RetentionInDays).toBeDefined();
      const format = JSON.parse(String(logs?.Format).replace(/\$context\.[\w.]+/g, 'x')) as Record<string, string>;
      expect(Object.keys(format)).toEqual(expect.arrayContaining(['requestId', 'status', 'routeKey', 'latencyMs']));
    }
  });

  it(`README and docs/DEPLOY.md state the minimum AWS SAM CLI (${MIN_SAM_CLI_VERSION}), which the deploy checks`, () => {
    for (const file of ['README.md', 'docs/DEPLOY.md']) expect(readFileSync(join(ROOT, file), 'utf8'), file).toContain(`SAM CLI ${MIN_SAM_CLI_VERSION}`);
  });
});

describe('ready to operate: as SAM expands the templates', () => {
  if (!cfnLint.version) {
    if (cfnLint.required) it('the SAM translator (cfn-lint) is installed (REQUIRE_CFN_LINT=1)', () => expect.fail(CFN_LINT_MISSING));
    else it.skip(CFN_LINT_MISSING, () => undefined);
    return;
  }

  // Names that are unique per account and region: a second environment must not collide with the first.
  const NAMED: Record<string, string> = {
    'AWS::Scheduler::Schedule': 'Name',
    'AWS::Events::Rule': 'Name',
    'AWS::Lambda::Function': 'FunctionName',
    'AWS::Lambda::LayerVersion': 'LayerName',
    'AWS::Logs::LogGroup': 'LogGroupName',
    'AWS::SQS::Queue': 'QueueName',
    'AWS::SNS::Topic': 'TopicName',
    'AWS::CloudWatch::Alarm': 'AlarmName',
    'AWS::CloudWatch::Dashboard': 'DashboardName',
    'AWS::DynamoDB::Table': 'TableName',
    'AWS::IAM::Role': 'RoleName',
  };

  for (const s of stacks) {
    it(`${s.folder}: every account-unique name carries the environment (two environments never collide)`, async () => {
      const t = await transform(s);
      const problems: string[] = [];
      for (const [id, r] of Object.entries(t.Resources)) {
        const key = NAMED[r.Type];
        const value = key ? r.Properties?.[key] : undefined;
        if (value === undefined) continue; // CloudFormation makes a unique one.
        const [a, b] = ['enva', 'envb'].map((env) => render(resolveIfs(value, t, withParameters(s, { EnvironmentName: env })), withParameters(s, { EnvironmentName: env })));
        // SAM resolves some names itself (a layer's) with the deployed parameter values: those carry it literally.
        const sub = (value as { 'Fn::Sub'?: unknown })['Fn::Sub'];
        const literal = typeof value === 'string' ? value : typeof sub === 'string' && !sub.includes('${') ? sub : undefined;
        const resolvedBySam = literal !== undefined && literal.split('-').includes(s.parameters.EnvironmentName!);
        if (a === b && !resolvedBySam) problems.push(`${id} (${r.Type}) is named "${a}" in every environment`);
      }
      expect(problems).toEqual([]);
    }, 120_000);
  }

  for (const s of stacks) {
    it(`${s.folder}: every function that reads SSM may decrypt with the stack's customer managed KMS key when one is given, and only then`, async () => {
      const t = await transform(s);
      const readers = serverlessFunctions(s).filter((fn) => grants(functionStatements(t, fn.functionId, s), 'ssm:GetParameter').length > 0);
      if (!readers.length) return;
      const kmsParameter = Object.keys(s.template.Parameters ?? {}).find((p) => /KmsKeyArn$/.test(p));
      expect(kmsParameter, `${s.folder}: a *KmsKeyArn parameter`).toBeDefined();
      const key = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
      for (const fn of readers) {
        expect(grants(functionStatements(t, fn.functionId, s), 'kms:Decrypt'), `${fn.functionId} without a key`).toEqual([]);
        const withKey = grants(functionStatements(t, fn.functionId, withParameters(s, { [kmsParameter!]: key })), 'kms:Decrypt');
        expect(withKey.flatMap((g) => g.resources), `${fn.functionId} with ${kmsParameter}`).toEqual([key]);
      }
    }, 120_000);
  }

  it('$default\'s role cannot read the Twilio auth token; $connect\'s can', async () => {
    const s = stack('02_cr-application');
    const t = await transform(s);
    const tokenArn = `parameter${s.parameters.TwilioAuthTokenParam}`;
    const ssmResources = (id: string) => grants(functionStatements(t, id, s), 'ssm:GetParameter').flatMap((g) => g.resources);
    expect(ssmResources('DefaultFunction').filter((r) => r.endsWith(tokenArn))).toEqual([]);
    expect(ssmResources('ConnectFunction').filter((r) => r.endsWith(tokenArn))).toHaveLength(1);
  }, 120_000);

  it('a failed turn continuation goes to an SQS queue (no retry), the role may send there, and an alarm watches the queue', async () => {
    const s = stack('02_cr-application');
    const t = await transform(s);
    const configs = resourcesOf(t, 'AWS::Lambda::EventInvokeConfig').filter(([, r]) => JSON.stringify(r.Properties?.FunctionName).includes('DefaultFunction'));
    expect(configs).toHaveLength(1);
    const props = configs[0]![1].Properties as { MaximumRetryAttempts?: number; DestinationConfig?: { OnFailure?: { Destination?: { 'Fn::GetAtt'?: [string, string] } } } };
    expect(props.MaximumRetryAttempts).toBe(0);
    const queueId = props.DestinationConfig?.OnFailure?.Destination?.['Fn::GetAtt']?.[0];
    expect(queueId && t.Resources[queueId]?.Type).toBe('AWS::SQS::Queue');
    expect(grants(functionStatements(t, 'DefaultFunction', s), 'sqs:SendMessage').flatMap((g) => g.resources)).toContain(`\${${queueId}.Arn}`);
    const watching = resourcesOf(t, 'AWS::CloudWatch::Alarm').filter(([, r]) => JSON.stringify(r.Properties?.Dimensions ?? []).includes(`"${queueId}","QueueName"`));
    expect(watching.length).toBeGreaterThan(0);
  }, 120_000);
});

describe('alarms and dashboard', () => {
  const emitted = emittedMetrics();
  const ops = stack('02_cr-application');
  const alarms = stacks.flatMap((s) => resourcesOf(s.template, 'AWS::CloudWatch::Alarm').map(([id, r]) => ({ s, id, r })));
  const service = functionEnvironment(serverlessFunctions(ops)[0]!).POWERTOOLS_SERVICE_NAME;

  it('an SNS topic takes every alarm; an operator e-mail is subscribed only when AlarmEmail is given', () => {
    const topics = resourcesOf(ops.template, 'AWS::SNS::Topic');
    expect(topics).toHaveLength(1);
    const topicId = topics[0]![0];
    expect(ops.template.Parameters?.AlarmEmail?.Default).toBe('');
    const subscriptions = resourcesOf(ops.template, 'AWS::SNS::Subscription');
    expect(subscriptions).toHaveLength(1);
    const [, sub] = subscriptions[0]!;
    expect(evaluateCondition(sub.Condition!, ops.template, ops)).toBe(false);
    expect(evaluateCondition(sub.Condition!, ops.template, withParameters(ops, { AlarmEmail: 'ops@example.com' }))).toBe(true);
    expect(sub.Properties).toMatchObject({ Protocol: 'email', Endpoint: { Ref: 'AlarmEmail' }, TopicArn: { Ref: topicId } });
    for (const { s, id, r } of alarms) {
      const actions = JSON.stringify(r.Properties?.AlarmActions ?? []);
      const toTopic = s === ops ? actions === JSON.stringify([{ Ref: topicId }]) : /AlarmTopicArn/.test(actions) && actions.includes('ImportValue');
      expect(toTopic, `${s.folder}/${id} notifies the alarm topic`).toBe(true);
      expect(r.Properties?.TreatMissingData, `${s.folder}/${id}: no calls is not an alarm`).toBe('notBreaching');
    }
  });

  it('the alarms the issue asks for exist: p95 first token, engine overhead, handler and post errors, throttles, continuation failures, table throttling', () => {
    const text = (r: Resource) => JSON.stringify(r.Properties);
    const has = (pattern: RegExp) => alarms.some(({ r }) => pattern.test(text(r)));
    expect(alarms.some(({ r }) => r.Properties?.MetricName === 'TimeToFirstTokenPosted' && r.Properties.ExtendedStatistic === 'p95')).toBe(true);
    expect(alarms.some(({ r }) => r.Properties?.MetricName === 'EngineOverhead' && r.Properties.ExtendedStatistic === 'p95')).toBe(true);
    expect(has(/"HandlerErrors"/)).toBe(true);
    expect(has(/"PostErrors"/)).toBe(true);
    expect(has(/"Throttles"/)).toBe(true);
    expect(has(/"ApproximateNumberOfMessagesVisible"/)).toBe(true);
    expect(has(/"ReadThrottleEvents"/) && has(/"WriteThrottleEvents"/)).toBe(true);
    expect(has(/"5xx"/)).toBe(true);
  });

  it(`every ConversationRelay metric an alarm or the dashboard reads is one the code emits, under service=${service}`, () => {
    const named = [...alarms.flatMap(({ r }) => conversationRelayMetrics(r.Properties)), ...conversationRelayMetrics(dashboardBody())];
    expect(named.length).toBeGreaterThan(10);
    expect([...new Set(named)].filter((m) => !emitted.has(m))).toEqual([]);
    for (const { r } of alarms) {
      const dims = JSON.stringify(r.Properties).match(/"Name":"service","Value":"([^"]+)"/g) ?? [];
      for (const d of dims) expect(d).toContain(`"Value":"${service}"`);
    }
    expect(JSON.stringify(dashboardBody())).not.toMatch(new RegExp(`"service","(?!${service}")`));
  });

  it('the dashboard body is valid JSON once deployed, with the latency phases, calls, tool durations and errors', () => {
    const body = dashboardBody() as { widgets: { type: string; properties: { title: string } }[] };
    const titles = body.widgets.map((w) => w.properties.title.toLowerCase());
    for (const wanted of ['latency phases', 'calls', 'tool durations', 'errors', 'alarms']) expect(titles.some((t) => t.includes(wanted)), wanted).toBe(true);
    const latency = JSON.stringify(body.widgets.find((w) => w.properties.title.toLowerCase().includes('latency')));
    for (const m of ['TimeToFirstTokenPosted', 'LlmTimeToFirstToken', 'EngineOverhead', 'LastTokenLag']) expect(latency).toContain(m);
  });

  function dashboardBody(): unknown {
    const dashboards = resourcesOf(ops.template, 'AWS::CloudWatch::Dashboard');
    expect(dashboards).toHaveLength(1);
    return JSON.parse(render(dashboards[0]![1].Properties!.DashboardBody, ops)) as unknown;
  }
});
