import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';

/**
 * A secret kept in a file only its owner can read (mode 0600, directory 0700): read it when it exists,
 * otherwise generate and store it. Two processes starting at once agree on one value: the file is created
 * exclusively, and the loser reads the winner's.
 */
export async function readOrCreateSecret(
  file: string,
  generate: () => string,
): Promise<{ value: string; created: boolean }> {
  const existing = await readFile(file, 'utf8').then(
    (text) => text.trim(),
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    },
  );
  if (existing) return { value: existing, created: false };
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const value = generate();
  try {
    await writeFile(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readOrCreateSecret(file, generate);
    throw err;
  }
  await chmod(file, 0o600); // exactly 0600, whatever the umask took away
  return { value, created: true };
}
