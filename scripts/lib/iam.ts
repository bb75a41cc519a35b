import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Template } from './cfn-yaml.ts';
import { render, type RenderContext } from './intrinsics.ts';
import type { Stack } from './stacks.ts';

/**
 * The permissions a function's role really has once SAM has expanded the template (policy templates, managed
 * policies, conditions at their deployed values), as plain statements with rendered resource strings.
 */
export interface Statement {
  actions: string[];
  resources: string[];
  /** Where it came from, for messages. */
  source: string;
}

const SAM_TRANSFORM = fileURLToPath(new URL('./sam_transform.py', import.meta.url));

/**
 * Runs SAM's translator (the one cfn-lint ships with) on a template; needs python3 with cfn-lint installed. The
 * result is kept in the temp folder under a hash of the template and the translator script, so the deploy checks
 * of one run (IAM, operations) translate each template once, not once per test file.
 */
export async function transformedTemplate(templatePath: string): Promise<Template> {
  return (await transformedTemplates([templatePath]))[0]!;
}

/**
 * Several templates at once: the ones not translated yet go through one python process (starting python and
 * importing cfn-lint costs more than translating a template).
 */
export async function transformedTemplates(templatePaths: string[]): Promise<Template[]> {
  const script = readFileSync(SAM_TRANSFORM);
  const cachePath = (path: string) =>
    join(tmpdir(), `cr-sam-transform-${createHash('sha256').update(readFileSync(path)).update(script).digest('hex').slice(0, 32)}.json`);
  const results: (Template | undefined)[] = templatePaths.map((path) => {
    const cached = cachePath(path);
    if (!existsSync(cached)) return undefined;
    try {
      return JSON.parse(readFileSync(cached, 'utf8')) as Template;
    } catch {
      return undefined; // A half-written file from a killed run: translate again.
    }
  });
  const todo = templatePaths.filter((_, i) => !results[i]);
  if (todo.length) {
    const { stdout } = await promisify(execFile)('python3', [SAM_TRANSFORM, ...todo], { maxBuffer: 256 * 1024 * 1024 });
    const translated = JSON.parse(stdout) as Template[];
    todo.forEach((path, j) => {
      const text = JSON.stringify(translated[j]);
      // Written aside and renamed, so a parallel reader never sees half a file.
      const cached = cachePath(path);
      const partial = `${cached}.${process.pid}.tmp`;
      writeFileSync(partial, text);
      renameSync(partial, cached);
      results[templatePaths.indexOf(path)] = translated[j];
    });
  }
  return results as Template[];
}

/** Managed policies SAM attaches by default, with what they grant (from their AWS definitions). */
const MANAGED_POLICIES: Record<string, Statement[]> = {
  'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole': [
    { actions: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], resources: ['*'], source: 'AWSLambdaBasicExecutionRole' },
  ],
  'arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess': [
    {
      actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets', 'xray:GetSamplingStatisticSummaries'],
      resources: ['*'],
      source: 'AWSXrayWriteOnlyAccess',
    },
  ],
};

export function evaluateCondition(name: string, template: Template, ctx: RenderContext): boolean {
  const expr = template.Conditions?.[name];
  if (expr === undefined) throw new Error(`unknown condition ${name}`);
  return evaluate(expr, template, ctx);
}

function evaluate(expr: unknown, template: Template, ctx: RenderContext): boolean {
  const [key, arg] = Object.entries(expr as Record<string, unknown>)[0] ?? [];
  const args = arg as unknown[];
  switch (key) {
    case 'Fn::Equals':
      return render(resolveIfs(args[0], template, ctx), ctx) === render(resolveIfs(args[1], template, ctx), ctx);
    case 'Fn::Not':
      return !evaluate(args[0], template, ctx);
    case 'Fn::And':
      return args.every((a) => evaluate(a, template, ctx));
    case 'Fn::Or':
      return args.some((a) => evaluate(a, template, ctx));
    case 'Condition':
      return evaluateCondition(String(arg), template, ctx);
    default:
      throw new Error(`cannot evaluate condition ${JSON.stringify(expr)}`);
  }
}

const NO_VALUE = Symbol('NoValue');

/** Replaces every Fn::If by the branch its condition selects; drops AWS::NoValue. */
export function resolveIfs(value: unknown, template: Template, ctx: RenderContext): unknown {
  if (Array.isArray(value)) {
    return value.map((v) => resolveIfs(v, template, ctx)).filter((v) => v !== NO_VALUE);
  }
  if (!value || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  if (entries.length === 1 && entries[0]![0] === 'Fn::If') {
    const [cond, whenTrue, whenFalse] = entries[0]![1] as [string, unknown, unknown];
    return resolveIfs(evaluateCondition(cond, template, ctx) ? whenTrue : whenFalse, template, ctx);
  }
  if (entries.length === 1 && entries[0]![0] === 'Ref' && entries[0]![1] === 'AWS::NoValue') return NO_VALUE;
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) {
    const r = resolveIfs(v, template, ctx);
    if (r !== NO_VALUE) out[k] = r;
  }
  return out;
}

const list = (v: unknown): unknown[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Statements granted to the role of the (transformed) Lambda function `functionId`. */
export function functionStatements(transformed: Template, functionId: string, stack: Stack): Statement[] {
  const ctx: RenderContext = stack;
  const fn = transformed.Resources[functionId];
  if (fn?.Type !== 'AWS::Lambda::Function') throw new Error(`${stack.folder}: ${functionId} is not a Lambda function after transform`);
  const roleRef = fn.Properties?.Role as { 'Fn::GetAtt'?: [string, string] } | string | undefined;
  const roleId = typeof roleRef === 'object' ? roleRef['Fn::GetAtt']?.[0] : undefined;
  if (!roleId) throw new Error(`${stack.folder}/${functionId}: the role is not defined in this template (${JSON.stringify(roleRef)})`);
  const role = transformed.Resources[roleId];
  if (role?.Type !== 'AWS::IAM::Role') throw new Error(`${stack.folder}/${functionId}: ${roleId} is not an IAM role`);
  const props = resolveIfs(role.Properties ?? {}, transformed, ctx) as Record<string, unknown>;
  const statements: Statement[] = [];
  const addDocument = (doc: unknown, source: string) => {
    for (const s of list((doc as { Statement?: unknown })?.Statement)) {
      const st = s as { Effect?: string; Action?: unknown; Resource?: unknown; NotAction?: unknown; NotResource?: unknown };
      if (st.Effect !== 'Allow') continue;
      if (st.NotAction !== undefined || st.NotResource !== undefined) {
        statements.push({ actions: ['*'], resources: ['*'], source: `${source} (NotAction/NotResource)` });
        continue;
      }
      statements.push({ actions: list(st.Action).map((a) => render(a, ctx)), resources: list(st.Resource).map((r) => render(r, ctx)), source });
    }
  };
  for (const p of list(props.Policies)) {
    const policy = p as { PolicyName?: unknown; PolicyDocument?: unknown };
    addDocument(policy.PolicyDocument, `${roleId} inline ${render(policy.PolicyName ?? '', ctx)}`);
  }
  for (const arn of list(props.ManagedPolicyArns)) {
    const rendered = render(arn, ctx);
    const known = MANAGED_POLICIES[rendered];
    if (known) statements.push(...known);
    else statements.push({ actions: ['*'], resources: ['*'], source: `managed policy ${rendered} (unknown here: treated as broad)` });
  }
  // Stand-alone policies attached to the role.
  for (const [id, r] of Object.entries(transformed.Resources)) {
    if (r.Type !== 'AWS::IAM::Policy' && r.Type !== 'AWS::IAM::ManagedPolicy') continue;
    const p = resolveIfs(r.Properties ?? {}, transformed, ctx) as { Roles?: unknown; PolicyDocument?: unknown };
    if (list(p.Roles).some((ref) => (ref as { Ref?: string }).Ref === roleId)) addDocument(p.PolicyDocument, `${id}`);
  }
  return statements;
}

function wildcard(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i');
}

export function grants(statements: Statement[], action: string): Statement[] {
  return statements.filter((s) => s.actions.some((a) => wildcard(a).test(action)));
}

/**
 * Whether the resources granted for an action plausibly cover our calls of it, and are narrower than `*`:
 * DynamoDB on the imported table (and its indexes), execute-api on an API's connections, Lambda on functions,
 * SSM on parameters.
 */
export const RESOURCE_SHAPE: Record<string, RegExp> = {
  dynamodb: /^\$\{Import:[^}]+-TableArn\}(\/index\/[\w*-]+)?$|^\$\{\w+\.Arn\}(\/index\/[\w*-]+)?$/,
  'execute-api': /^arn:aws:execute-api:\$\{AWS::Region\}:\$\{AWS::AccountId\}:(\$\{[\w:.-]+\}|[a-z0-9]+)\/[^*]*\*?.*$/,
  lambda: /^arn:aws:lambda:\$\{AWS::Region\}:\$\{AWS::AccountId\}:function:[\w${}:.-]+\*?$|^\$\{Import:[^}]+FunctionArn\}$|^\$\{\w+\.Arn\}$/,
  ssm: /^arn:aws:ssm:\$\{AWS::Region\}:\$\{AWS::AccountId\}:parameter\/[^*]+\*?$/,
};

export function resourceProblems(action: string, statements: Statement[]): string[] {
  const service = action.split(':')[0]!;
  const shape = RESOURCE_SHAPE[service];
  const problems: string[] = [];
  for (const s of statements) {
    for (const r of s.resources) {
      if (r === '*') problems.push(`${action} is granted on "*" (${s.source})`);
      else if (shape && !shape.test(r)) problems.push(`${action} is granted on "${r}", which is not a ${service} resource of ours (${s.source})`);
    }
  }
  return problems;
}
