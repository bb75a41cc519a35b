export * from './message-sender.ts';
export * from './lambda-message-sender.ts';
