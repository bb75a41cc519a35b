import { toLambdaHandler } from '../../layers/tools/lambda-handler.ts';
import { useCase } from './index.ts';

export const handler = toLambdaHandler(useCase.tools);
