import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { configTable } from '../src/config.js';
import { PROJECT_ROOT } from '../src/paths.js';

// Prints the configuration table generated from src/config.ts; with --write, replaces the table between
// the <!-- config:start --> and <!-- config:end --> markers of README.md.
const table = configTable();
if (process.argv.includes('--write')) {
  const file = path.join(PROJECT_ROOT, 'README.md');
  const readme = readFileSync(file, 'utf8');
  const pattern = /<!-- config:start -->[\s\S]*?<!-- config:end -->/;
  if (!pattern.test(readme))
    throw new Error('README.md has no <!-- config:start --> ... <!-- config:end --> markers');
  writeFileSync(file, readme.replace(pattern, `<!-- config:start -->\n${table}\n<!-- config:end -->`));
} else {
  process.stdout.write(`${table}\n`);
}
