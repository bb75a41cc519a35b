import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { UseCaseModule } from '../../../layers/tools/use-case.ts';
import { buildSpec } from '../function-build.ts';
import { analysisMetafile, sdkCalls } from '../sdk-calls.ts';
import { loadStacks, serverlessFunctions } from '../stacks.ts';
import { useCaseNames } from '../use-case-names.ts';
import type { At } from './shared.ts';
import { entryPoints, TEMPLATE_FILE } from './template.ts';

/**
 * The tool function's inline policy against the SDK calls its bundle keeps (built as `sam build` builds it): a
 * call the policy does not allow, or a grant no code uses. Resources and conditions are checked in `npm test`
 * through SAM's own transform (tests/deploy/iam.test.ts).
 */
/** Services whose calls the bundle shows; a grant of theirs that the code never calls is privilege nobody needs. */
const VISIBLE_SERVICES = new Set(['dynamodb', 'lambda', 'ssm', 'execute-api']);

export async function checkPolicy(useCase: UseCaseModule, folder: string, at: At): Promise<void> {
  const stack = loadStacks(dirname(useCase.dir)).stacks.find((s) => s.folder === folder);
  const entry = useCaseNames(useCase.id).handlerEntry(folder);
  const fn = stack && serverlessFunctions(stack).find((f) => entryPoints(f.resource).includes(entry));
  if (!fn) return;
  const field = `Resources.${fn.functionId}.Properties.Policies`;
  const policies = Array.isArray(fn.properties.Policies) ? fn.properties.Policies : [];
  // Managed policies and SAM policy templates grant what they grant; only inline statements can be read here.
  const inlineOnly = policies.every((p) => typeof p === 'object' && p !== null && 'Statement' in p);
  const granted = new Set(
    policies.flatMap((p) => ((p as { Statement?: unknown }).Statement as { Effect?: string; Action?: unknown }[] | undefined) ?? [])
      .filter((s) => s.Effect === 'Allow')
      .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]))
      .filter((a): a is string => typeof a === 'string'),
  );
  const allows = (action: string) => [...granted].some((g) => new RegExp(`^${g.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(action));

  const calls = sdkCalls(await analysisMetafile(buildSpec(fn), join(tmpdir(), 'use-case-check')));
  for (const call of calls) {
    const missing = call.actions.filter((a) => !allows(a));
    const refused = call.anyOf ? missing.length === call.actions.length : missing.length > 0;
    if (refused && inlineOnly) {
      at(TEMPLATE_FILE, field, `the tools call ${call.client} ${call.command}, which needs ${missing.join(call.anyOf ? ' or ' : ' and ')}: not granted`, `allow ${missing[0]} on exactly the resources the tools use (for the table: dynamodb:LeadingKeys for their keys)`);
    }
  }
  const called = new Set(calls.flatMap((c) => c.actions));
  for (const action of granted) {
    if (VISIBLE_SERVICES.has(action.split(':')[0]!) && !action.includes('*') && !called.has(action)) {
      at(TEMPLATE_FILE, field, `grants ${action}, which the tools' code never calls (left from the folder it was copied from?)`, `remove ${action}`);
    }
  }
}

