import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const TEMPLATE = '03_twiml-api/template.yaml';

function hasCfnLint(): boolean {
  return spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' }).status === 0;
}
const lintable = hasCfnLint();
if (!lintable && process.env.REQUIRE_CFN_LINT) throw new Error('cfn-lint is required (REQUIRE_CFN_LINT is set) but not installed');

describe('03_twiml-api template', () => {
  it.skipIf(!lintable)('is cfn-lint clean', () => {
    const out = spawnSync('cfn-lint', [TEMPLATE], { encoding: 'utf8' });
    expect(`${out.stdout}${out.stderr}`.trim()).toBe('');
    expect(out.status).toBe(0);
    // cfn-lint with the SAM translator is seconds of CPU; on a shared 2-core machine, more than the default 20 s.
  }, 120_000);

  it('holds no secret values: only the SSM parameter name of the auth token', () => {
    const text = readFileSync(TEMPLATE, 'utf8');
    expect(text).not.toMatch(/TWILIO_AUTH_TOKEN:|OPENAI_API_KEY|AuthToken:\s*['"]?[0-9a-f]{32}/);
    expect(text).toContain('TWILIO_AUTH_TOKEN_PARAM: !Ref TwilioAuthTokenParam');
  });

  it('hands the agent\'s text to its own function, invoked asynchronously and retried a bounded number of times', () => {
    const text = readFileSync(TEMPLATE, 'utf8');
    const resource = (name: string) => text.slice(text.indexOf(`\n  ${name}:\n`), text.indexOf('\n\n', text.indexOf(`\n  ${name}:\n`)));
    expect(resource('ConnectActionFunction')).toContain('AGENT_SMS_FUNCTION: !Ref AgentSmsFunction');
    expect(resource('ConnectActionFunction')).toMatch(/Action: lambda:InvokeFunction\n\s+Resource: !GetAtt AgentSmsFunction.Arn/);
    const agentSms = resource('AgentSmsFunction');
    expect(agentSms).toMatch(/EventInvokeConfig:\n\s+MaximumRetryAttempts: 2\n\s+MaximumEventAgeInSeconds: 600/);
    expect(agentSms).toContain('Fn::Sub: ${SendMessageStackName}-SendMessageFunctionName');
    // It answers no webhook: no twilio layer, no auth token.
    expect(agentSms).not.toContain('SharedDependenciesLayerArn');
    expect(agentSms).not.toContain('ssm:GetParameter');
  });

  it('exports the webhook URL (the deploy prints it) and shows the action URL as a plain output', () => {
    const text = readFileSync(TEMPLATE, 'utf8');
    expect(text).toContain('Name: !Sub ${AWS::StackName}-CallSetupUrl');
    expect(text).toMatch(/ConnectActionUrl:\n\s+Description: .*\n\s+Value: .*connect-action/);
    expect(text).not.toContain('-ConnectActionUrl');
  });
});

