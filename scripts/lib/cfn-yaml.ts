import { readFileSync } from 'node:fs';
import { isScalar, isSeq, parseDocument, Scalar, visit, YAMLMap, YAMLSeq, type Node } from 'yaml';

/**
 * CloudFormation/SAM templates in YAML use short-form intrinsic tags (`!Ref`, `!Sub`, `!GetAtt`, ...). Parsed
 * here into the long JSON form (`{ Ref: x }`, `{ 'Fn::Sub': ... }`) that the rest of the tooling reads, the
 * same form CloudFormation itself works with.
 */
export type Template = {
  AWSTemplateFormatVersion?: string;
  Transform?: string | string[];
  Globals?: Record<string, Record<string, unknown>>;
  Parameters?: Record<string, { Type: string; Default?: unknown; Description?: string }>;
  Conditions?: Record<string, unknown>;
  Resources: Record<string, Resource>;
  Outputs?: Record<string, { Value: unknown; Description?: string; Export?: { Name: unknown } }>;
};

export interface Resource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  Condition?: string;
  DependsOn?: string | string[];
}

const FN_TAGS = [
  'And', 'Base64', 'Cidr', 'Equals', 'FindInMap', 'GetAZs', 'GetAtt', 'If', 'ImportValue', 'Join', 'Not', 'Or',
  'Select', 'Split', 'Sub', 'Transform', 'ToJsonString', 'Length',
] as const;

function longForm(tag: string, node: Node): Node {
  const name = tag.slice(1);
  if (name === 'Ref') return mapOf('Ref', node);
  if (name === 'Condition') return mapOf('Condition', node);
  if (name === 'GetAtt' && isScalar(node) && typeof node.value === 'string') {
    // `!GetAtt Res.Attr.Sub` means ['Res', 'Attr.Sub'].
    const [resource, ...attribute] = node.value.split('.');
    const seq = new YAMLSeq();
    seq.items.push(new Scalar(resource), new Scalar(attribute.join('.')));
    return mapOf('Fn::GetAtt', seq);
  }
  if ((FN_TAGS as readonly string[]).includes(name)) return mapOf(`Fn::${name}`, node);
  throw new Error(`unknown CloudFormation tag ${tag}`);
}

function mapOf(key: string, value: Node): YAMLMap {
  const untagged = value;
  untagged.tag = undefined;
  const map = new YAMLMap();
  map.set(new Scalar(key), untagged);
  return map;
}

export function parseTemplate(source: string, file = '<template>'): Template {
  const doc = parseDocument(source, { uniqueKeys: true, prettyErrors: true, strict: false });
  if (doc.errors.length) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('\n')}`);
  visit(doc, {
    // Inner tags first, so `!Sub` inside `!Join` is already long-form when the outer one wraps it.
    Node(_key, node) {
      if ((isScalar(node) || isSeq(node) || node instanceof YAMLMap) && node.tag?.startsWith('!')) {
        return longForm(node.tag, node);
      }
      return undefined;
    },
  });
  const value = doc.toJS({ maxAliasCount: -1 }) as Template | null;
  if (!value || typeof value !== 'object' || typeof value.Resources !== 'object') {
    throw new Error(`${file}: not a CloudFormation template (no Resources)`);
  }
  return value;
}

export function loadTemplate(file: string): Template {
  return parseTemplate(readFileSync(file, 'utf8'), file);
}
