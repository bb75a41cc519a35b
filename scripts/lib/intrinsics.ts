/**
 * Renders CloudFormation values to strings without AWS: parameters take their deployed values, `AWS::StackName`
 * the stack's name, and whatever only exists after deployment stays symbolic: `${Resource}`, `${Resource.Attr}`,
 * `${AWS::Region}`, `${AWS::AccountId}`, and `${Import:<export name>}` for an imported value.
 */
export interface RenderContext {
  stackName: string;
  parameters: Record<string, string>;
}

export function render(value: unknown, ctx: RenderContext): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map((v) => render(v, ctx)).join(',');
  if (!value || typeof value !== 'object') throw new Error(`cannot render ${JSON.stringify(value)}`);
  const [key, arg] = Object.entries(value)[0] ?? [];
  switch (key) {
    case 'Ref':
      return ref(String(arg), ctx);
    case 'Fn::GetAtt': {
      const [res, attr] = Array.isArray(arg) ? arg : String(arg).split(/\.(.*)/);
      return `\${${String(res)}.${render(attr, ctx)}}`;
    }
    case 'Fn::ImportValue':
      return `\${Import:${render(arg, ctx)}}`;
    case 'Fn::Sub': {
      const [text, vars] = Array.isArray(arg) ? (arg as [string, Record<string, unknown>]) : [String(arg), {}];
      return text.replace(/\$\{(!?)([^}]+)\}/g, (whole, bang: string, name: string) => {
        if (bang) return `\${${name}}`;
        if (vars && name in vars) return render(vars[name], ctx);
        if (name.includes('.')) {
          const [res, attr] = name.split(/\.(.*)/);
          return `\${${res}.${attr}}`;
        }
        return ref(name, ctx);
      });
    }
    case 'Fn::Join': {
      const [sep, parts] = arg as [string, unknown[]];
      return (Array.isArray(parts) ? parts : [parts]).map((p) => render(p, ctx)).join(sep);
    }
    case 'Fn::Select': {
      const [index, list] = arg as [unknown, unknown];
      const items = Array.isArray(list) ? list.map((v) => render(v, ctx)) : render(list, ctx).split(',');
      return items[Number(render(index, ctx))] ?? `\${Select:${render(index, ctx)}}`;
    }
    case 'Fn::Split': {
      const [sep, text] = arg as [string, unknown];
      return render(text, ctx).split(sep).join(',');
    }
    case 'Fn::If': {
      const [, whenTrue, whenFalse] = arg as [string, unknown, unknown];
      return `\${If:${render(whenTrue, ctx)}|${render(whenFalse, ctx)}}`;
    }
    default:
      return `\${${key}:${JSON.stringify(arg)}}`;
  }
}

function ref(name: string, ctx: RenderContext): string {
  if (name === 'AWS::StackName') return ctx.stackName;
  if (name === 'AWS::Partition') return 'aws';
  if (name === 'AWS::URLSuffix') return 'amazonaws.com';
  if (name === 'AWS::NoValue') return '';
  if (name in ctx.parameters) return ctx.parameters[name]!;
  return `\${${name}}`;
}

/** Every `Fn::ImportValue` in a value tree, with where it sits (for messages). */
export function findImports(value: unknown, path: string[] = []): { path: string; arg: unknown }[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => findImports(v, [...path, String(i)]));
  if (!value || typeof value !== 'object') return [];
  const out: { path: string; arg: unknown }[] = [];
  for (const [key, v] of Object.entries(value)) {
    if (key === 'Fn::ImportValue') out.push({ path: path.join('.'), arg: v });
    else out.push(...findImports(v, [...path, key]));
  }
  return out;
}
