import { configTable } from '../src/config.js';

// Prints the README's configuration table from the declarations in src/config.ts.
process.stdout.write(`${configTable()}\n`);
