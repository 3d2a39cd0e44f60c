import { open, readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The message files of a Maildir and of its Maildir++ subfolders (`.Processed/`, `.Failed/`):
 * `new/` and `cur/` of each. A folder that does not exist holds nothing.
 */
async function messageFiles(dir: string): Promise<string[]> {
  const folders = [dir];
  try {
    for (const entry of await readdir(dir, { withFileTypes: true }))
      if (entry.isDirectory() && entry.name.startsWith('.')) folders.push(join(dir, entry.name));
  } catch {
    return [];
  }
  const files: string[] = [];
  for (const folder of folders) {
    for (const sub of ['new', 'cur']) {
      let names: string[];
      try {
        names = await readdir(join(folder, sub));
      } catch {
        continue;
      }
      for (const name of names) files.push(join(folder, sub, name));
    }
  }
  return files;
}

/** The header block of a message file (at most its first 64 KiB), unfolded. */
async function headersOf(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(64 * 1024);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    const text = buffer.subarray(0, bytesRead).toString('latin1');
    const end = text.search(/\r?\n\r?\n/);
    return (end === -1 ? text : text.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
  } finally {
    await handle.close();
  }
}

/**
 * Removes the messages of a Maildir (and its subfolders) whose headers `matches` accepts: an
 * erasure removes a person's copies from the outbox. Returns how many were removed.
 */
export async function removeMaildirMessages(
  dir: string,
  matches: (headers: string) => boolean,
): Promise<number> {
  let removed = 0;
  for (const path of await messageFiles(dir)) {
    try {
      if (matches(await headersOf(path))) {
        await unlink(path);
        removed += 1;
      }
    } catch {
      // gone meanwhile (another worker, a mail client moving it): nothing left to remove
    }
  }
  return removed;
}

/**
 * Removes the messages of a Maildir (and its subfolders) last written before `cutoff`
 * (retention): a file exactly at the cutoff stays. `only` limits it to some subfolders
 * (`['', '.Processed']`, '' being the Maildir itself). Returns how many were removed.
 */
export async function removeMaildirMessagesBefore(
  dir: string,
  cutoff: Date,
  only?: readonly string[],
): Promise<number> {
  let removed = 0;
  for (const path of await messageFiles(dir)) {
    const folder = path.slice(dir.length).split(/[\\/]/).filter(Boolean);
    const sub = folder.length > 2 ? folder[0]! : '';
    if (only !== undefined && !only.includes(sub)) continue;
    try {
      if ((await stat(path)).mtimeMs < cutoff.getTime()) {
        await unlink(path);
        removed += 1;
      }
    } catch {
      // gone meanwhile
    }
  }
  return removed;
}
