import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadTemplate, type Resource, type Template } from './cfn-yaml.ts';
import { loadSamConfig, parameterOverrides, samSetting, type SamConfig } from './samconfig.ts';

/**
 * The deployable stacks: every `0*_<name>/` folder at the repository root. A folder whose template.yaml does not
 * exist yet is reported as missing (its owner is still writing it) rather than silently ignored.
 */
export interface StackFolder {
  /** Folder name, e.g. `02_cr-application`. */
  folder: string;
  dir: string;
  templatePath: string;
  samconfigPath: string;
}

export interface Stack extends StackFolder {
  template: Template;
  samconfig: SamConfig | undefined;
  /** CloudFormation stack name, from samconfig.toml (what `sam deploy` uses). */
  stackName: string;
  /** Parameter values as deployed: template defaults overlaid with samconfig's parameter_overrides. */
  parameters: Record<string, string>;
}

export interface StackInventory {
  stacks: Stack[];
  missing: StackFolder[];
}

export function stackFolders(root: string): StackFolder[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && /^\d\d_/.test(d.name))
    .map((d) => d.name)
    .sort()
    .map((folder) => {
      const dir = join(root, folder);
      return { folder, dir, templatePath: join(dir, 'template.yaml'), samconfigPath: join(dir, 'samconfig.toml') };
    });
}

export function loadStacks(root: string): StackInventory {
  const stacks: Stack[] = [];
  const missing: StackFolder[] = [];
  for (const folder of stackFolders(root)) {
    if (!existsSync(folder.templatePath)) {
      missing.push(folder);
      continue;
    }
    const template = loadTemplate(folder.templatePath);
    const samconfig = loadSamConfig(folder.samconfigPath);
    const stackName = samSetting(samconfig, 'deploy', 'stack_name');
    if (typeof stackName !== 'string' || !stackName) {
      throw new Error(`${folder.folder}: samconfig.toml must set stack_name (sam deploy and the importers rely on it)`);
    }
    const parameters: Record<string, string> = {};
    for (const [name, p] of Object.entries(template.Parameters ?? {})) {
      if (p.Default !== undefined) parameters[name] = String(p.Default);
    }
    Object.assign(parameters, parameterOverrides(samconfig));
    stacks.push({ ...folder, template, samconfig, stackName, parameters });
  }
  return { stacks, missing };
}

/** Missing stacks, as one line a test or the deploy script prints. */
export function describeMissing(missing: StackFolder[]): string {
  return missing.length ? `not checked yet (no template.yaml): ${missing.map((m) => m.folder).join(', ')}` : '';
}

export interface FunctionResource {
  stack: Stack;
  functionId: string;
  resource: Resource;
  /** Properties with the template's Globals.Function applied, as SAM applies them. */
  properties: Record<string, unknown>;
}

export function serverlessFunctions(stack: Stack): FunctionResource[] {
  const globals = (stack.template.Globals?.Function ?? {}) as Record<string, unknown>;
  return Object.entries(stack.template.Resources)
    .filter(([, r]) => r.Type === 'AWS::Serverless::Function')
    .map(([functionId, resource]) => ({
      stack,
      functionId,
      resource,
      properties: mergeGlobals(globals, resource.Properties ?? {}),
    }));
}

// SAM's rules: maps merge (resource wins), lists concatenate (globals first), scalars are replaced.
function mergeGlobals(globals: Record<string, unknown>, own: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...globals };
  for (const [key, value] of Object.entries(own)) {
    const g = globals[key];
    if (Array.isArray(g) && Array.isArray(value)) out[key] = [...g, ...value];
    else if (isPlainObject(g) && isPlainObject(value) && !isIntrinsic(value)) out[key] = mergeGlobals(g, value);
    else out[key] = value;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function isIntrinsic(v: unknown): boolean {
  if (!isPlainObject(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && (keys[0] === 'Ref' || keys[0]!.startsWith('Fn::') || keys[0] === 'Condition');
}
