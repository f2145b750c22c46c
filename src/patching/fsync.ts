/**
 * @module patching/fsync
 * Making a directory's entries durable: after a rename(2) into it, fsync the directory itself.
 */
import { open } from "node:fs/promises";

export async function fsyncDir(dir: string): Promise<void> {
  const fd = await open(dir, "r");
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
}
