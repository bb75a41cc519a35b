import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const TEMPLATE = '03_twiml-api/template.yaml';

// cfn-lint runs on this template with every other in one invocation: tests/deploy/cfn-lint.test.ts.
describe('03_twiml-api template', () => {
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

