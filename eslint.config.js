import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// Who may import whom (STYLE.md): services talk only through topics, so a service imports packages,
// never another service; plumbing in packages/ knows no service; tests, benchmarks and the CLI use
// a package's or a service's public exports (its package.json "exports"), not its private files.
const SERVICES = ['intake', 'grid-routing', 'sla-timer', 'notification'];

/** `@griddispatch/<service>` or a relative path into services/<service>, for each of `services`. */
function servicePatterns(services, message) {
  return services.map((service) => ({
    regex: `^(@griddispatch/${service}(/|$)|(\\.\\./)+(services/)?${service}/)`,
    message,
  }));
}

const privateFiles = {
  regex: '^(\\.\\./)+(services|packages|apps)/[^/]+/src/',
  message: 'Import the package\'s public exports (@griddispatch/<name>, or an entry in its package.json "exports"), not its private files.',
};

export default tseslint.config(
  { ignores: ['**/node_modules/**', 'dist/**', '.data/**', '**/.data/**', 'infra/kafka/.cache/**', 'bench/results/**', '**/drizzle/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  ...SERVICES.map((service) => ({
    files: [`services/${service}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: servicePatterns(
            SERVICES.filter((other) => other !== service),
            `A service never imports another service: ${service} talks to it through topics (docs/architecture.md#services).`,
          ),
        },
      ],
    },
  })),
  {
    files: ['packages/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: servicePatterns(SERVICES, 'Packages know no service: move what both need into a package.') }],
    },
  },
  {
    files: ['bench/**/*.ts', 'tests/**/*.ts', 'apps/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [privateFiles] }] },
  },
  { files: ['**/*.js', '**/*.mjs'], languageOptions: { globals: { process: 'readonly', console: 'readonly' } } },
);
