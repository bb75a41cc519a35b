import { join } from 'node:path';
import type { UseCaseModule } from '../../../layers/tools/use-case.ts';
import { parseTemplate, type Resource, type Template } from '../cfn-yaml.ts';
import { useCaseNames } from '../use-case-names.ts';
import { readOptional, type At } from './shared.ts';

/** template.yaml against the id: the tool function's name, log group, service name and code, and no leftovers. */
export const TEMPLATE_FILE = 'template.yaml';

export async function checkTemplate(useCase: UseCaseModule, folder: string, at: At): Promise<void> {
  const file = TEMPLATE_FILE;
  const names = useCaseNames(useCase.id);
  const text = await readOptional(join(useCase.dir, file));
  if (text === undefined) {
    at(file, undefined, 'missing: the tool function has nothing to deploy it', 'npm run new-use-case writes one');
    return;
  }
  let template: Template;
  try {
    template = parseTemplate(text, file);
  } catch (err) {
    at(file, undefined, (err as Error).message.replace(`${file}: `, ''));
    return;
  }

  const entry = names.handlerEntry(folder);
  const functions = Object.entries(template.Resources).filter(([, r]) => r.Type === 'AWS::Serverless::Function');
  const tools = functions.find(([, r]) => entryPoints(r).includes(entry));
  for (const [id, resource] of functions) {
    for (const other of entryPoints(resource).filter((e) => /^0\d+_/.test(e) && !e.startsWith(`${folder}/`))) {
      at(file, `Resources.${id}.Metadata.BuildProperties.EntryPoints`, `builds ${other}, another folder's code`, `build ${entry}`);
    }
  }
  if (!tools) {
    at(file, 'Resources', `no AWS::Serverless::Function builds ${entry}`, `give the tools function Metadata.BuildProperties.EntryPoints: [${entry}]`);
  } else {
    const [id, resource] = tools;
    const fnName = resource.Properties?.FunctionName;
    if (subText(fnName) !== names.functionNameSub) {
      at(file, `Resources.${id}.Properties.FunctionName`, `is ${describe(fnName)}; the engine invokes ${names.functionNameSub} for use case "${useCase.id}"`, `FunctionName: !Sub ${names.functionNameSub}`);
    }
    const logGroup = logGroupOf(template, resource);
    if (logGroup && subText(logGroup.name) !== names.logGroupSub) {
      at(file, `Resources.${logGroup.id}.Properties.LogGroupName`, `is ${describe(logGroup.name)}; the function logs to ${names.logGroupSub}`, `LogGroupName: !Sub ${names.logGroupSub}`);
    }
    const service = (resource.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables?.POWERTOOLS_SERVICE_NAME;
    if (service !== undefined && service !== names.serviceName) {
      at(file, `Resources.${id}.Properties.Environment.Variables.POWERTOOLS_SERVICE_NAME`, `is ${describe(service)}; logs and metrics of this use case are named ${names.serviceName}`, `POWERTOOLS_SERVICE_NAME: ${names.serviceName}`);
    }
  }

  // A name derived from another id is a leftover of the folder this one was copied from: a log group, a policy
  // resource or a function name that belongs to that use case.
  const foreign = new Set<string>();
  for (const match of text.matchAll(/\b(?:tools|use-case)-([a-z0-9]+(?:-[a-z0-9]+)*)/g)) {
    if (match[1] !== useCase.id) foreign.add(match[0]);
  }
  for (const name of foreign) at(file, undefined, `names "${name}", which belongs to another use case (copied from its folder?)`, `use the names of "${useCase.id}": ${names.functionNameSub}, ${names.serviceName}`);
}

export function entryPoints(resource: Resource): string[] {
  const build = (resource.Metadata?.BuildProperties ?? {}) as { EntryPoints?: unknown };
  return Array.isArray(build.EntryPoints) ? build.EntryPoints.filter((e): e is string => typeof e === 'string') : [];
}

function logGroupOf(template: Template, fn: Resource): { id: string; name: unknown } | undefined {
  const ref = ((fn.Properties?.LoggingConfig as { LogGroup?: { Ref?: string } } | undefined)?.LogGroup)?.Ref;
  const group = ref ? template.Resources[ref] : undefined;
  return ref && group ? { id: ref, name: group.Properties?.LogGroupName } : undefined;
}

/** The text of `!Sub text` (or a plain string). */
function subText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const sub = (value as { 'Fn::Sub'?: unknown } | undefined)?.['Fn::Sub'];
  return typeof sub === 'string' ? sub : undefined;
}

function describe(value: unknown): string {
  const sub = subText(value);
  return sub !== undefined ? sub : value === undefined ? 'not set' : JSON.stringify(value);
}

