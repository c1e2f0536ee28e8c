// ESLint: `pnpm run --silent lint` (part of `pnpm test`). TypeScript gets typescript-eslint's
// type-aware recommended rules; the plain JavaScript (bench and build scripts, the demo
// target's browser scripts) gets ESLint's recommended rules.
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', '**/node_modules/**', 'grafana/**'] },
  {
    files: ['**/*.ts'],
    extends: [js.configs.recommended, tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: {
        // Explicit projects rather than the project service: each package's tsconfig.json
        // builds its sources and excludes the tests, which tsconfig.tests.json type-checks
        // (the project service only asks the nearest tsconfig.json, so it would find no
        // project for a test file).
        project: ['packages/*/tsconfig.json', 'tsconfig.tests.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // A leading underscore marks a value left unused on purpose: a parameter a signature
      // requires, or a field taken out of an object by destructuring the rest.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
      // An async function without await is how an implementation of a Promise-returning
      // interface turns a synchronous throw into a rejection; it is not a mistake here.
      '@typescript-eslint/require-await': 'off',
      // Forwarding a caught value or an AbortSignal's reason is a rethrow (both are typed
      // unknown/any); rejecting with a literal or a non-Error type is still reported.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingAny: true, allowThrowingUnknown: true }],
      // One private-member style: ECMAScript #private (a private constructor has no # form).
      'no-restricted-syntax': [
        'error',
        {
          selector: 'PropertyDefinition[accessibility="private"], TSParameterProperty[accessibility="private"]',
          message: 'Use a #private field, not the private keyword.',
        },
        { selector: 'MethodDefinition[accessibility="private"][kind!="constructor"]', message: 'Use a #private method, not the private keyword.' },
        // One log key for errors: pino's `err`.
        {
          selector:
            'CallExpression[callee.property.name=/^(trace|debug|info|warn|error|fatal)$/] > ObjectExpression:first-child > Property[key.name=/^(error|e|exception)$/]',
          message: "Log an error under `err` (pino's key), e.g. log.warn({ err: describeError(e) }, …).",
        },
      ],
    },
  },
  {
    // vitest's asymmetric matchers (expect.any, expect.stringContaining, …) are typed `any`
    // so that they fit inside toEqual/toMatchObject; assigning them is the point.
    files: ['**/*.test.ts', '**/test/**/*.ts'],
    rules: { '@typescript-eslint/no-unsafe-assignment': 'off' },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    extends: [js.configs.recommended],
    languageOptions: { globals: { ...globals.node } },
  },
  {
    // The demo target's browser scripts: classic scripts; Socket.IO's client (io) and the
    // video pages' peer.js (UpPeer) are loaded before them.
    files: ['packages/demo-target/public/**/*.js'],
    languageOptions: { sourceType: 'script', globals: { ...globals.browser, io: 'readonly', UpPeer: 'readonly' } },
  },
);
