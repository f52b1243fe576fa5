// Layering (docs/architecture.md): imports point down only. cli -> compose/engine -> native -> base.
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

const restrict = (patterns) => ({
  'no-restricted-imports': [
    'error',
    {
      patterns: patterns.map((group) => ({
        group,
        message: 'imports point down only (docs/architecture.md)',
      })),
    },
  ],
});

module.exports = tseslint.config(
  { ignores: ['dist/**', 'build/**', 'node_modules/**', 'coverage/**', '**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: __dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: "NewExpression[callee.name='Error']",
          message: 'throw a TscError with a code (base/errors.ts)',
        },
      ],
    },
  },
  {
    files: ['base/**/*.ts'],
    rules: restrict([['../compose/*', '../engine/*', '../native/*', '../cli/*']]),
  },
  { files: ['compose/**/*.ts'], rules: restrict([['**/engine/*', '**/native/*', '**/cli/*']]) },
  { files: ['engine/**/*.ts'], rules: restrict([['**/compose/*', '**/cli/*']]) },
  { files: ['native/**/*.ts'], rules: restrict([['**/compose/*', '**/engine/*', '**/cli/*']]) },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    // Tests read parsed JSON (config output, API bodies) by key: the unsafe-any rules add noise there.
    rules: {
      'no-restricted-syntax': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/unbound-method': 'off',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
