// The daemon's shape, checked on its import graph (read with TypeScript's own pre-processor, type-only
// imports included): no cycles; daemon.ts knows the transports only through their factory and contract;
// the engine is reached only through its index.
import test from 'ava';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { ROOT } from './helpers/paths.js';

const DAEMON = join(ROOT, 'daemon');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : [],
  );
}

/** Each file under daemon/ with the files under daemon/ it imports (relative paths from daemon/). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sources(DAEMON)) {
    const info = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
    const targets = info.importedFiles
      .map((f) => f.fileName)
      .filter((name) => name.startsWith('.'))
      .map((name) => relative(DAEMON, resolve(dirname(file), name.replace(/\.js$/, '.ts'))));
    graph.set(relative(DAEMON, file), targets);
  }
  return graph;
}

/** Every cycle found by a depth-first walk, as the files along it. */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'open');
    path.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...path.slice(path.indexOf(next)), next]);
      else if (!state.has(next)) visit(next);
    }
    path.pop();
    state.set(node, 'done');
  };
  for (const node of graph.keys()) if (!state.has(node)) visit(node);
  return found;
}

test('the graph is read: every relative import resolves to a file under daemon/', (t) => {
  const graph = importGraph();
  t.true(graph.size > 50, `${graph.size} files`);
  const missing = [...graph].flatMap(([file, targets]) => targets.filter((x) => !x.startsWith('..') && !graph.has(x)).map((x) => `${file} → ${x}`));
  t.deepEqual(missing, []);
});

test('no import cycles in daemon/', (t) => {
  t.deepEqual(cycles(importGraph()).map((c) => c.join(' → ')), []);
});

test('the cycle finder finds a cycle', (t) => {
  const graph = new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', ['a.ts']]]);
  t.deepEqual(cycles(graph), [['a.ts', 'b.ts', 'c.ts', 'a.ts']]);
});

test('daemon.ts imports no transport internals: only the factory', (t) => {
  const transports = importGraph().get('daemon.ts')!.filter((f) => f.startsWith('transports/'));
  t.deepEqual(transports, ['transports/create.ts']);
});

test('outside the engine, the daemon imports the engine only through engine/index.ts', (t) => {
  const bypasses = [...importGraph()]
    .filter(([file]) => !file.startsWith('engine/'))
    .flatMap(([file, targets]) => targets.filter((x) => x.startsWith('engine/') && x !== 'engine/index.ts').map((x) => `${file} → ${x}`));
  t.deepEqual(bypasses, []);
});
