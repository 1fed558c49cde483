// The shipped systemd unit passes systemd's own checks, and install.sh stages a complete install.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { findUsableAddon } from '../daemon/engine/index.js';
import { ROOT } from './helpers/paths.js';
import { referenceModelPath } from './helpers/reference.js';

const unit = join(ROOT, 'systemd', 'bitnetd.service');

test('systemd-analyze verify prints nothing, with and without the Raspberry Pi drop-in (it exits 0 even on unknown keys)', (t) => {
  // A root with the unit's programs (stubs) and systemd's own units, so the check does not depend on where node lives here.
  const root = mkdtempSync(join(tmpdir(), 'bitnetd-root-'));
  mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
  for (const program of ['usr/bin/node', 'bin/kill']) {
    mkdirSync(join(root, program, '..'), { recursive: true });
    writeFileSync(join(root, program), '#!/bin/sh\n');
    chmodSync(join(root, program), 0o755);
  }
  cpSync('/usr/lib/systemd/system', join(root, 'usr/lib/systemd/system'), { recursive: true });
  cpSync(unit, join(root, 'etc/systemd/system/bitnetd.service'));
  const verify = () => spawnSync('systemd-analyze', ['verify', `--root=${root}`, '/etc/systemd/system/bitnetd.service'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  let r = verify();
  t.is(r.status, 0);
  t.is((r.stdout + r.stderr).trim(), '');
  mkdirSync(join(root, 'etc/systemd/system/bitnetd.service.d'));
  cpSync(join(ROOT, 'systemd', 'bitnetd-pi-power.conf'), join(root, 'etc/systemd/system/bitnetd.service.d/pi-power.conf'));
  r = verify();
  t.is(r.status, 0);
  t.is((r.stdout + r.stderr).trim(), '');
});

test('systemd-analyze security rates the unit at most 2.0', (t) => {
  const out = execFileSync('systemd-analyze', ['security', '--offline=yes', unit], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const exposure = Number(/Overall exposure level for bitnetd\.service: ([\d.]+)/.exec(out)?.[1]);
  t.log(`exposure ${exposure}`);
  t.true(exposure <= 2.0, `exposure ${exposure}`);
  t.regex(out, /✓ NoNewPrivileges=/);
});

test('the unit is Type=notify with a watchdog, and runs the daemon', (t) => {
  const text = readFileSync(unit, 'utf8');
  for (const line of ['Type=notify', 'NotifyAccess=main', 'WatchdogSec=30', 'RuntimeDirectory=bitnetd', 'StateDirectory=bitnetd', 'ConfigurationDirectory=bitnetd', 'ProtectSystem=strict', 'RestartPreventExitStatus=65 66 69 78']) {
    t.true(text.split('\n').includes(line), line);
  }
  t.regex(text, /^ExecStart=\/usr\/bin\/node --max-semi-space-size=2 \/opt\/bitnetd\/dist\/daemon\/cli\.js serve$/m);
});

test('install.sh with DESTDIR stages the program, the unit (and the Raspberry Pi drop-in), sysusers, tmpfiles and a private config', (t) => {
  const dest = mkdtempSync(join(tmpdir(), 'bitnetd-stage-'));
  // BITNETD_PI_POWER: stage the Raspberry Pi drop-in as on a board with /dev/vcio.
  const r = spawnSync(join(ROOT, 'systemd', 'install.sh'), [], { encoding: 'utf8', env: { ...process.env, DESTDIR: dest, BITNETD_PI_POWER: 'yes' } });
  t.is(r.status, 0, r.stderr);
  const engine = relative(ROOT, findUsableAddon(ROOT, {}).path); // the prebuild or the local build
  for (const f of [
    'opt/bitnetd/dist/daemon/cli.js',
    `opt/bitnetd/${engine}`,
    'opt/bitnetd/node_modules/mqtt/package.json',
    'etc/systemd/system/bitnetd.service',
    'etc/systemd/system/bitnetd.service.d/pi-power.conf',
    'usr/lib/sysusers.d/bitnetd.conf',
    'usr/lib/tmpfiles.d/bitnetd.conf',
    'etc/bitnetd/config.json',
  ]) {
    t.true(existsSync(join(dest, f)), f);
  }
  t.is(statSync(join(dest, 'etc/bitnetd/config.json')).mode & 0o777, 0o640);
  // The staged copy runs on its own.
  const out = execFileSync(process.execPath, [join(dest, 'opt/bitnetd/dist/daemon/cli.js'), 'config', '--print', '--config', join(dest, 'etc/bitnetd/config.json')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  t.is((JSON.parse(out) as { model: { path: string } }).model.path, '/var/lib/bitnetd/models/ggml-model-i2_s.gguf');
  const env = { ...process.env };
  delete env['BITNETD_ADDON'];
  const info = execFileSync(process.execPath, [join(dest, 'opt/bitnetd/dist/daemon/cli.js'), 'info', referenceModelPath()], { encoding: 'utf8', env });
  const engineLine = info.split('\n').find((line) => line.startsWith('engine '));
  t.true(engineLine?.endsWith(` ${join(dest, 'opt/bitnetd', engine)}`), `the staged engine runs: ${engineLine}`);
});
