export * from './contract.ts';
export * from './define-tool.ts';
export * from './invocation-schema.ts';
export * from './toolbox.ts';
export * from './in-process-invoker.ts';
export * from './lambda-handler.ts';
export * from './use-case.ts';
