import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tableDefinition } from '../../layers/data/table-definition.ts';
import { exportsOf } from '../../scripts/lib/deploy-order.ts';
import { layersOf } from '../../scripts/lib/layer-build.ts';
import { repoStacks, ROOT } from './support.ts';

const sortBy = <T extends object>(items: T[] | undefined, key: keyof T) =>
  [...(items ?? [])].sort((a, b) => String(a[key]).localeCompare(String(b[key])));

describe('01_dynamodb', () => {
  const stack = repoStacks().stacks.find((s) => s.folder === '01_dynamodb');
  if (!stack) throw new Error('01_dynamodb/template.yaml is missing');
  const tables = Object.entries(stack.template.Resources).filter(([, r]) => r.Type === 'AWS::DynamoDB::Table');
  const [tableId, table] = tables[0] ?? [];
  const props = (table?.Properties ?? {}) as Record<string, any>;

  it('declares exactly one table, the one local DynamoDB and the tests create (layers/data/table-definition.ts)', () => {
    expect(tables).toHaveLength(1);
    const local = tableDefinition('x');
    expect(props.BillingMode).toBe('PAY_PER_REQUEST');
    expect(local.BillingMode).toBe('PAY_PER_REQUEST');
    expect(sortBy(props.AttributeDefinitions, 'AttributeName')).toEqual(sortBy(local.AttributeDefinitions, 'AttributeName'));
    expect(props.KeySchema).toEqual(local.KeySchema);
    expect(props.GlobalSecondaryIndexes).toEqual(local.GlobalSecondaryIndexes);
    expect(props.GlobalSecondaryIndexes[0].IndexName).toBe('index-1-full');
  });

  it('expires items by TTL on expireAt, keeps point-in-time recovery, encrypts with KMS', () => {
    expect(props.TimeToLiveSpecification).toEqual({ AttributeName: 'expireAt', Enabled: true });
    expect(props.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
    expect(props.SSESpecification).toEqual({ SSEEnabled: true });
  });

  it('exports the table name and ARN and the layer version ARN under the stack name', () => {
    const byKey = Object.fromEntries(exportsOf(stack).map((e) => [e.outputKey, e.name]));
    expect(byKey).toMatchObject({
      TableName: `${stack.stackName}-TableName`,
      TableArn: `${stack.stackName}-TableArn`,
      SharedDependenciesLayerArn: `${stack.stackName}-SharedDependenciesLayerArn`,
    });
    const outputs = stack.template.Outputs!;
    expect(outputs.TableName!.Value).toEqual({ Ref: tableId });
    expect(outputs.TableArn!.Value).toEqual({ 'Fn::GetAtt': [tableId, 'Arn'] });
    expect(outputs.SharedDependenciesLayerArn!.Value).toEqual({ Ref: 'SharedDependenciesLayer' });
  });

  it('builds the shared-dependencies layer with SAM (nodejs22.x, arm64) from a lockfile pinned to the root one', () => {
    const [layer] = layersOf(stack);
    expect(layer?.layerId).toBe('SharedDependenciesLayer');
    expect(layer?.buildMethod).toBe('nodejs22.x');
    const resource = stack.template.Resources.SharedDependenciesLayer!;
    expect(resource.Properties).toMatchObject({ CompatibleRuntimes: ['nodejs22.x'], CompatibleArchitectures: ['arm64'] });
    // What the tests run against locally is exactly what ships in the layer.
    const rootLock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')).packages as Record<string, { version: string }>;
    const layerLock = JSON.parse(readFileSync(join(layer!.contentDir, 'package-lock.json'), 'utf8')).packages as Record<string, { version: string }>;
    const differing = Object.entries(layerLock)
      .filter(([path]) => path.startsWith('node_modules/'))
      .filter(([path, p]) => rootLock[path]?.version !== p.version)
      .map(([path, p]) => `${path}: layer ${p.version}, root ${rootLock[path]?.version ?? 'absent'}`);
    expect(differing).toEqual([]);
    const manifest = JSON.parse(readFileSync(join(layer!.contentDir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    for (const [name, version] of Object.entries(manifest.dependencies)) expect(version).toBe(rootLock[`node_modules/${name}`]?.version);
  });
});
