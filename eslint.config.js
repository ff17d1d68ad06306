// @ts-check
import tseslint from 'typescript-eslint';

/** @param {unknown[]} patterns */
const importRule = (patterns) => /** @type {const} */ (['error', { patterns }]);

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'data/**', 'coverage/**', 'bench/results/**'] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['eslint.config.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
      eqeqeq: ['error', 'smart'],
    },
  },
  // Ownership rules (docs/ARCHITECTURE.md): the domain never sees transport; transport never sees Redis.
  {
    files: ['src/memory/**/*.ts'],
    rules: {
      'no-restricted-imports': importRule([
        {
          group: ['uWebSockets.js'],
          message: 'memory/ is transport-free: uWS belongs to src/http and src/ws.',
        },
        { group: ['**/http/**', '**/ws/**'], message: 'memory/ must not import transport code.' },
      ]),
    },
  },
  {
    files: ['src/http/**/*.ts', 'src/ws/**/*.ts', 'src/jobs/**/*.ts'],
    rules: {
      'no-restricted-imports': importRule([
        { group: ['ioredis'], message: 'Transport and jobs reach Redis through services, not ioredis.' },
        {
          group: ['**/redis/keys.js', '**/redis/scripts.js'],
          message: 'Only src/memory, src/auth and src/redis build keys or run scripts.',
        },
      ]),
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/http/**', 'src/ws/**', 'src/app.ts'],
    rules: {
      'no-restricted-imports': importRule([
        { group: ['uWebSockets.js'], message: 'Only src/http and src/ws touch uWS.' },
      ]),
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
);
