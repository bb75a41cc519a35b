import { findImports, render } from './intrinsics.ts';
import type { Stack } from './stacks.ts';

/**
 * The order stacks must be deployed in, derived from the templates themselves: a stack that imports an export
 * comes after the stack that exports it. Nothing here is a hand-kept list.
 */
export interface ExportDecl {
  stack: Stack;
  outputKey: string;
  name: string;
}

export interface ImportUse {
  stack: Stack;
  name: string;
  /** Where in the template, e.g. `Resources.ConnectFunction.Properties.Environment.Variables.TABLE_NAME`. */
  path: string;
}

export function exportsOf(stack: Stack): ExportDecl[] {
  return Object.entries(stack.template.Outputs ?? {})
    .filter(([, o]) => o.Export?.Name !== undefined)
    .map(([outputKey, o]) => ({ stack, outputKey, name: render(o.Export!.Name, stack) }));
}

export function importsOf(stack: Stack): ImportUse[] {
  const { Resources, Outputs, Conditions, Globals } = stack.template;
  return findImports({ Globals, Conditions, Resources, Outputs }).map(({ path, arg }) => ({ stack, path, name: render(arg, stack) }));
}

export interface DeployOrder {
  order: Stack[];
  exports: ExportDecl[];
  imports: ImportUse[];
  /** Imports no known stack exports (the exporter is missing, or a name is wrong). */
  unresolved: ImportUse[];
  /** Stack folder -> the folders it imports from. */
  dependsOn: Map<string, Set<string>>;
}

export function deployOrder(stacks: Stack[]): DeployOrder {
  const exports = stacks.flatMap(exportsOf);
  const imports = stacks.flatMap(importsOf);
  const byName = new Map<string, ExportDecl>();
  for (const e of exports) {
    const twin = byName.get(e.name);
    if (twin) throw new Error(`export ${e.name} is declared by both ${twin.stack.folder} and ${e.stack.folder}`);
    byName.set(e.name, e);
  }
  const dependsOn = new Map(stacks.map((s) => [s.folder, new Set<string>()]));
  const unresolved: ImportUse[] = [];
  for (const use of imports) {
    const source = byName.get(use.name);
    if (!source) unresolved.push(use);
    else if (source.stack.folder !== use.stack.folder) dependsOn.get(use.stack.folder)!.add(source.stack.folder);
  }
  // Kahn's algorithm; among stacks that are ready, folder order (01_, 02_, ...) keeps the plan stable.
  const order: Stack[] = [];
  const placed = new Set<string>();
  while (order.length < stacks.length) {
    const next = stacks.find((s) => !placed.has(s.folder) && [...dependsOn.get(s.folder)!].every((d) => placed.has(d)));
    if (!next) {
      const stuck = stacks.filter((s) => !placed.has(s.folder)).map((s) => `${s.folder} -> ${[...dependsOn.get(s.folder)!].join(', ')}`);
      throw new Error(`circular imports between stacks: ${stuck.join('; ')}`);
    }
    order.push(next);
    placed.add(next.folder);
  }
  return { order, exports, imports, unresolved, dependsOn };
}
