// Import directions of src/ (checked by test/layers.test.ts, so a violation fails `npm test`):
//   cli -> inputs | transforms | outputs | reports | metrics -> decode | store | bus -> shared files (src/*.ts)
// A layer imports only layers below it; components of one kind do not import another kind;
// the sink toolkit knows no sink; no import cycle leaves a folder.
const MIDDLE = '^src/(inputs|transforms|outputs|reports|metrics)/';
const LOWER = '^src/(decode|store|bus)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'shared-is-the-bottom',
      comment: 'src/*.ts (the event, stats, component types, ...) is shared by every layer and imports none of them',
      severity: 'error',
      from: { path: '^src/[^/]+\\.ts$' },
      to: { path: '^src/[^/]+/' },
    },
    {
      name: 'lower-imports-only-shared',
      comment: 'decode, store and bus sit above the shared files only: not above each other, never above a component or the CLI',
      severity: 'error',
      from: { path: LOWER },
      to: { path: ['^src/(cli|inputs|transforms|outputs|reports|metrics)/', LOWER], pathNot: '^src/$1/' },
    },
    {
      name: 'components-never-import-cli',
      comment: 'a component gets what it needs from its Context (src/component.ts), not from src/cli/',
      severity: 'error',
      from: { path: MIDDLE },
      to: { path: '^src/cli/' },
    },
    {
      name: 'components-of-one-kind-only',
      comment: 'inputs, transforms, outputs and reports do not import each other: shared pieces go down a layer',
      severity: 'error',
      from: { path: MIDDLE },
      to: { path: MIDDLE, pathNot: '^src/$1/' },
    },
    {
      name: 'sink-toolkit-is-generic',
      comment: 'src/outputs/sink/ serves every sink and knows none of them (the event encoders of format/ are no sink)',
      severity: 'error',
      from: { path: '^src/outputs/sink/' },
      to: { path: '^src/outputs/', pathNot: '^src/outputs/(sink|format)/' },
    },
    {
      name: 'no-cycles-between-folders',
      comment: 'an import cycle may stay inside one folder, never pass through another',
      severity: 'error',
      from: { path: '^(src/[^/]+/|src/[^/]+/[^/]+/)[^/]+$' },
      to: { circular: true, viaSomeNot: '^$1[^/]+$' },
    },
    {
      name: 'src-never-imports-tests',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    parser: 'swc', // TypeScript 7 has no compiler API for dependency-cruiser; @swc/core parses the .ts files
    tsPreCompilationDeps: true, // type-only imports count: a layer leak in types is a leak
    doNotFollow: { path: 'node_modules' },
  },
};
