import type { Metafile, Plugin } from 'esbuild';

/**
 * What one piece of a bundle costs at import, measured rather than sampled: the bundle rebuilt with that piece
 * replaced by an inert stand-in, timed in fresh processes interleaved with the bundle as built. A sampling profile
 * charges V8's parse and compile of the whole file, and node's built-in modules, to no package; taking a piece
 * out shows all it brings with it (its share of the parse, the built-ins only it imports, its module bodies).
 * The stand-ins are never called: the rebuilt bundles are only imported.
 */
export interface Piece {
  name: string;
  /** Import specifiers the stand-in replaces (esbuild's Go regular expressions: no lookahead). */
  imports: RegExp;
  /** Specifiers among those that stay as they are, and the inputs that show them in a bundle. */
  keep?: { imports: RegExp; inputs: RegExp };
  /** Present in a bundle when one of its esbuild inputs matches. */
  inputs: RegExp;
}

export const PIECES: Piece[] = [
  {
    name: 'AWS SDK clients (every @aws-sdk/client-* and lib-dynamodb, with the @smithy stack they pull in)',
    imports: /^@aws-sdk\/(client-[a-z0-9-]+|lib-dynamodb)$/,
    inputs: /node_modules\/@aws-sdk\/(client-|lib-dynamodb)/,
  },
  {
    // What a lighter DynamoDB/SSM/SQS/Lambda client could win at most: the @connections client stays (the reply
    // is posted through it), so the @smithy stack it shares with the others stays too.
    name: 'every AWS SDK client but the @connections one (ApiGatewayManagementApi stays)',
    imports: /^@aws-sdk\/(client-[a-z0-9-]+|lib-dynamodb)$/,
    keep: { imports: /^@aws-sdk\/client-apigatewaymanagementapi$/, inputs: /node_modules\/@aws-sdk\/client-apigatewaymanagementapi\// },
    inputs: /node_modules\/@aws-sdk\/(client-(?!apigatewaymanagementapi\/)|lib-dynamodb)/,
  },
  { name: 'the SSM client alone (secrets)', imports: /^@aws-sdk\/client-ssm$/, inputs: /node_modules\/@aws-sdk\/client-ssm\// },
  { name: 'Powertools logger and metrics', imports: /^@aws-lambda-powertools\/(logger|metrics)$/, inputs: /node_modules\/@aws-lambda-powertools\// },
  { name: 'zod/mini (the schemas built at import, the English messages)', imports: /^zod\/(mini|locales)$/, inputs: /node_modules\/zod\/v4\/mini\// },
  { name: 'classic zod (fromJSONSchema for tool arguments)', imports: /^zod$/, inputs: /node_modules\/zod\/v4\/classic\// },
  { name: 'the openai SDK', imports: /^openai(\/.*)?$/, inputs: /node_modules\/openai\// },
];

export function piecesIn(metafile: Metafile): Piece[] {
  const inputs = Object.keys(Object.values(metafile.outputs).find((o) => o.entryPoint)?.inputs ?? {});
  // A piece that keeps something the bundle does not hold would only repeat the piece without the exception.
  return PIECES.filter((p) => inputs.some((i) => p.inputs.test(i)) && (!p.keep || inputs.some((i) => p.keep!.inputs.test(i))));
}

// Any name read from the stand-in is a function that can be called, constructed, extended and read further, so
// module-scope code (`new Logger()`, `class X extends Command`) runs; `then` stays undefined so nothing awaits it.
// esbuild reads a CommonJS module's named imports through an object whose prototype is the module's, hence the
// proxy as prototype.
const INERT_MODULE = `
const inert = new Proxy(function () {}, {
  get: (target, key) => (key === 'then' || typeof key === 'symbol' ? undefined : key === 'prototype' ? target.prototype : inert),
  apply: () => inert,
  construct: () => inert,
});
module.exports = Object.create(new Proxy({}, { get: (_, key) => (key === '__esModule' || key === 'then' || typeof key === 'symbol' ? undefined : inert) }));
`;

/** An esbuild plugin that resolves the piece's imports to the inert stand-in. */
export function withoutPiece(piece: Piece): Plugin {
  return {
    name: 'without-piece',
    setup(build) {
      build.onResolve({ filter: piece.imports }, (args) => (piece.keep?.imports.test(args.path) ? undefined : { path: args.path, namespace: 'inert-piece' }));
      build.onLoad({ filter: /.*/, namespace: 'inert-piece' }, () => ({ contents: INERT_MODULE, loader: 'js' }));
    },
  };
}
