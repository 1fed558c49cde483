// Finding an engine addon this machine runs: prebuild and local build in the right order, and addons
// built for another CPU or architecture refused with a clear reason before anything runs them.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addonCandidates, elfArch, findUsableAddon, localBuildPath, prebuildPath, probeAddon } from '../../../daemon/engine/addon/addon-loader.js';
import { loadedAddon } from '../../../daemon/engine/index.js';
import { Daemon } from '../../helpers/daemon.js';
import { syntheticModel } from '../../helpers/models.js';
import { CLI } from '../../helpers/paths.js';

const realAddon = loadedAddon().path;

/** A package root holding a copy of the real addon as its prebuild and as its local build. */
function packageRoot(prebuildAge: number, localAge: number): string {
  const root = mkdtempSync(join(tmpdir(), 'bitnetd-pkg-'));
  for (const [path, age] of [[prebuildPath(root), prebuildAge], [localBuildPath(root), localAge]] as const) {
    mkdirSync(join(path, '..'), { recursive: true });
    copyFileSync(realAddon, path);
    const when = Date.now() / 1000 - age;
    utimesSync(path, when, when);
  }
  return root;
}

/** A shared library for this machine whose constructor executes an illegal instruction. */
function illegalInstructionAddon(): string {
  const dir = mkdtempSync(join(tmpdir(), 'bitnetd-sigill-'));
  const source = join(dir, 'sigill.c');
  const trap = process.arch === 'x64' ? 'ud2' : 'udf #0';
  writeFileSync(source, `__attribute__((constructor)) static void boom(void) { __asm__ volatile("${trap}"); }\n`);
  const out = join(dir, 'bitnetd.node');
  execFileSync('cc', ['-shared', '-fPIC', '-o', out, source]);
  return out;
}

test('the prebuild for this platform is named by process.platform and process.arch', (t) => {
  t.is(prebuildPath('/pkg', 'linux', 'arm'), '/pkg/prebuilds/linux-arm/bitnetd.node');
  t.is(prebuildPath('/pkg'), `/pkg/prebuilds/${process.platform}-${process.arch}/bitnetd.node`);
});

test('the newer of prebuild and local build comes first; BITNETD_ADDON alone when set', (t) => {
  const older = packageRoot(3600, 60);
  t.deepEqual(addonCandidates(older, {}).map((c) => c.source), ['local build', 'prebuild']);
  const newer = packageRoot(60, 3600);
  t.deepEqual(addonCandidates(newer, {}).map((c) => c.source), ['prebuild', 'local build']);
  t.deepEqual(addonCandidates(newer, { BITNETD_ADDON: '/x/bitnetd.node' }), [{ path: '/x/bitnetd.node', source: 'BITNETD_ADDON' }]);
  t.deepEqual(findUsableAddon(newer, {}), { path: prebuildPath(newer), source: 'prebuild' });
});

test('the real addon passes the probe and reports its kernels', (t) => {
  const probe = probeAddon(realAddon);
  t.true(probe.ok);
  if (probe.ok) t.true(probe.kernels.includes('scalar'));
});

test('an addon for another architecture is refused by its ELF header', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bitnetd-elf-'));
  const foreign = join(dir, 'bitnetd.node');
  const header = Buffer.alloc(64);
  header.writeUInt32BE(0x7f454c46, 0);
  header[4] = 2; // 64-bit
  header[5] = 1; // little endian
  header.writeUInt16LE(process.arch === 'arm64' ? 62 : 183, 18);
  writeFileSync(foreign, header);
  const expected = process.arch === 'arm64' ? 'x64' : 'arm64';
  t.is(elfArch(foreign), expected);
  t.deepEqual(probeAddon(foreign), { ok: false, reason: `it was built for ${expected}, this is ${process.arch}` });
});

test('an addon that executes an illegal instruction is caught in the child: a clear error, exit 69 for the daemon', async (t) => {
  const sigill = illegalInstructionAddon();
  const probe = probeAddon(sigill);
  t.false(probe.ok);
  if (!probe.ok) t.regex(probe.reason, /built for another CPU: loading it executed an illegal instruction/);

  const info = spawnSync(process.execPath, [CLI, 'info', await syntheticModel('micro', 'official')], {
    encoding: 'utf8',
    env: { ...process.env, BITNETD_ADDON: sigill },
  });
  t.is(info.status, 1);
  t.regex(info.stderr, /no engine addon that runs on this machine .*illegal instruction.*npm run build/);

  const d = await Daemon.start({ model: await syntheticModel('micro', 'official'), env: { BITNETD_ADDON: sigill }, waitReady: false });
  t.is(await d.exited, 69);
  t.regex(d.logs.find((l) => l.level === 'error')!.message, /illegal instruction/);
  t.notRegex(d.stderr, /\n\s+at /, 'no stack trace');
});
