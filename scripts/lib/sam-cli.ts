/**
 * The AWS SAM CLI the stacks are built and deployed with. 1.164.0 is the version they are checked against (it
 * builds all six stacks, the layer for arm64 from `Metadata.BuildArchitecture`, and the functions with esbuild
 * from `Metadata.BuildProperties`); `npm run deploy` refuses an older one before building anything.
 */
export const MIN_SAM_CLI_VERSION = '1.164.0';

const parts = (v: string) => v.split('.').map((n) => Number(n));

/** The version `sam --version` printed ("SAM CLI, version 1.164.0"), or undefined when it printed none. */
export function samCliVersion(output: string): string | undefined {
  return /version\s+(\d+\.\d+\.\d+)/i.exec(output)?.[1];
}

/** Throws, naming both versions, unless `sam --version` printed MIN_SAM_CLI_VERSION or later. */
export function checkSamCliVersion(output: string): string {
  const version = samCliVersion(output);
  if (!version) throw new Error(`could not read the AWS SAM CLI version from "sam --version" ("${output.trim()}"); ${MIN_SAM_CLI_VERSION} or later is needed`);
  const [have, need] = [parts(version), parts(MIN_SAM_CLI_VERSION)];
  for (let i = 0; i < 3; i++) {
    if (have[i]! > need[i]!) return version;
    if (have[i]! < need[i]!) throw new Error(`AWS SAM CLI ${version} is too old: the stacks need ${MIN_SAM_CLI_VERSION} or later (upgrade it, then deploy again)`);
  }
  return version;
}
