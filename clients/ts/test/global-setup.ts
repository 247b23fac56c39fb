import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { TestProject } from 'vitest/node';

/** Builds wse-server once for every integration test file (`go build ./cmd/wse-server`). */
export default function setup(project: TestProject): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'wse-ts-'));
  const bin = join(dir, 'wse-server');
  const root = resolve(import.meta.dirname, '../../..');
  execFileSync(process.env.GO ?? 'go', ['build', '-o', bin, './cmd/wse-server'], { cwd: root, stdio: 'inherit' });
  project.provide('wseServerBin', bin);
  return () => rmSync(dir, { recursive: true, force: true });
}

declare module 'vitest' {
  export interface ProvidedContext {
    wseServerBin: string;
  }
}
