import { toLambdaHandler } from '../../layers/tools/lambda-handler.ts';
import { tools } from './tools.ts';

export const handler = toLambdaHandler(tools);
