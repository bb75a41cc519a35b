/**
 * Every name derived from a use-case id, in one place: the generator writes them, `use-cases:check` compares the
 * folder against them, and the loader names the tool functions with them. The engine invokes tools by these
 * names (02's invoke policy matches `cr-<env>-tools-*`), so a folder that drifts from them fails in AWS only.
 */

/** Kebab case: lowercase words of letters and digits joined by single hyphens. */
export const USE_CASE_ID = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** Lambda names are at most 64 characters: `cr-` + environment (up to 16) + `-tools-` + id. */
export const MAX_USE_CASE_ID_LENGTH = 64 - 'cr-'.length - 16 - '-tools-'.length;

/** The environment parameter every template takes; also the SAM CLI environment samconfig.toml's tables use. */
export const ENVIRONMENT_PARAMETER = 'EnvironmentName';
export const SAM_ENVIRONMENT = 'default';

export interface UseCaseNames {
  id: string;
  /** `07_use-case-<id>` for folder number 7. */
  folder(number: number): string;
  /** The CloudFormation stack, in every samconfig.toml table. */
  stackName: string;
  /** The tool function's name as the template writes it (`!Sub`), and as deployed to an environment. */
  functionNameSub: string;
  functionName(environment: string): string;
  logGroupSub: string;
  /** Powertools service name, on every log line of the tool function. */
  serviceName: string;
  /** The esbuild entry point, relative to the repository root (templates build with CodeUri ../). */
  handlerEntry(folder: string): string;
}

export function useCaseNames(id: string): UseCaseNames {
  return {
    id,
    folder: (number) => `${String(number).padStart(2, '0')}_use-case-${id}`,
    stackName: `cr-use-case-${id}`,
    functionNameSub: `cr-\${${ENVIRONMENT_PARAMETER}}-tools-${id}`,
    functionName: (environment) => `cr-${environment}-tools-${id}`,
    logGroupSub: `/aws/lambda/cr-\${${ENVIRONMENT_PARAMETER}}-tools-${id}`,
    serviceName: `tools-${id}`,
    handlerEntry: (folder) => `${folder}/src/handler.ts`,
  };
}

/** The id a use-case folder's name carries (`07_use-case-pizza-order` -> `pizza-order`). */
export function idFromFolder(folder: string): string | undefined {
  return /^0\d+_use-case-(.+)$/.exec(folder)?.[1];
}

/** Why an id cannot be used, or undefined when it can. */
export function idProblem(id: string): string | undefined {
  if (!USE_CASE_ID.test(id)) return `"${id}" is not kebab case: lowercase letters and digits in words joined by single hyphens, e.g. pizza-order`;
  if (id.length > MAX_USE_CASE_ID_LENGTH) return `"${id}" is ${id.length} characters; at most ${MAX_USE_CASE_ID_LENGTH}, so that cr-<env>-tools-<id> fits Lambda's 64`;
  return undefined;
}
