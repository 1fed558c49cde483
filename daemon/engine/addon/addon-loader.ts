// Finds an engine addon this machine can run. Candidates: BITNETD_ADDON, the prebuild for this
// platform (npm run cross; shipped in the package) and the local cmake-js build. Each is first loaded
// and run in a child process, so an addon built for another CPU or a newer C library becomes a clear
// error here rather than a daemon killed by SIGILL in the middle of a request.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');

export interface AddonCandidate {
  path: string;
  source: 'BITNETD_ADDON' | 'prebuild' | 'local build';
}

export type ProbeResult = { ok: true; kernels: string[] } | { ok: false; reason: string };

/** Where `npm run cross` puts the addon for a platform and architecture (process.platform, process.arch). */
export function prebuildPath(root: string, platform: string = process.platform, arch: string = process.arch): string {
  return join(root, 'prebuilds', `${platform}-${arch}`, 'bitnetd.node');
}

export function localBuildPath(root: string): string {
  return join(root, 'build', 'Release', 'bitnetd.node');
}

/**
 * The addons to try, in order: BITNETD_ADDON alone when set; otherwise the prebuild and the local
 * build, the newer first (a developer who rebuilt after `npm run cross` wants the rebuilt one).
 */
export function addonCandidates(root: string = packageRoot, env: NodeJS.ProcessEnv = process.env): AddonCandidate[] {
  const fromEnv = env['BITNETD_ADDON'];
  if (fromEnv) return [{ path: resolve(fromEnv), source: 'BITNETD_ADDON' }];
  const both: AddonCandidate[] = [
    { path: prebuildPath(root), source: 'prebuild' },
    { path: localBuildPath(root), source: 'local build' },
  ];
  const found = both.filter((c) => existsSync(c.path));
  return found.sort((a, b) => statSync(b.path).mtimeMs - statSync(a.path).mtimeMs);
}

// Run in the child: load the addon and compute with the kernels it would choose (BITNETD_KERNEL
// included), which executes both the baseline code and the chosen instruction set.
const PROBE = `
const addon = require(process.argv[1]);
addon.i2sDot(new Uint8Array(32), new Int8Array(128));
addon.f16Dot(new Uint16Array(8), new Float32Array(8));
addon.q8Dot(new Int8Array(32), new Float32Array(1), new Int8Array(64), new Float32Array(1));
process.stdout.write(JSON.stringify(addon.kernels));
`;

// ELF e_machine values of the architectures Node runs on here; dlopen's own message for a foreign one
// is a misleading "No such file or directory".
const ELF_MACHINES: Record<number, string> = { 3: 'ia32', 40: 'arm', 62: 'x64', 183: 'arm64', 243: 'riscv64' };

/** The Node architecture name an ELF file was built for, or undefined when it is not ELF. */
export function elfArch(path: string): string | undefined {
  const header = Buffer.alloc(20);
  const fd = openSync(path, 'r');
  try {
    if (readSync(fd, header, 0, 20, 0) < 20 || header.readUInt32BE(0) !== 0x7f454c46) return undefined;
  } finally {
    closeSync(fd);
  }
  const machine = header[5] === 2 ? header.readUInt16BE(18) : header.readUInt16LE(18);
  return ELF_MACHINES[machine] ?? `ELF machine ${machine}`;
}

/** Loads and exercises an addon in a child process of this same Node binary. */
export function probeAddon(path: string): ProbeResult {
  const arch = elfArch(path);
  if (arch !== process.arch) return { ok: false, reason: arch ? `it was built for ${arch}, this is ${process.arch}` : 'not a shared library' };
  const child = spawnSync(process.execPath, ['-e', PROBE, path], { encoding: 'utf8', timeout: 120_000 });
  if (child.error) return { ok: false, reason: `the check could not run (${child.error.message})` };
  if (child.signal === 'SIGILL') {
    return { ok: false, reason: `it was built for another CPU: loading it executed an illegal instruction (${process.arch})` };
  }
  if (child.signal) return { ok: false, reason: `loading it killed the process with ${child.signal}` };
  if (child.status !== 0) {
    const message = child.stderr.split('\n').find((line) => /Error|error:|GLIBC|not found/.test(line)) ?? child.stderr.trim();
    return { ok: false, reason: message.trim() || `exit status ${child.status}` };
  }
  try {
    return { ok: true, kernels: JSON.parse(child.stdout) as string[] };
  } catch {
    return { ok: false, reason: `unexpected output from the check: ${child.stdout.slice(0, 200)}` };
  }
}

/** The first candidate that passes the probe, or an error naming every candidate and why it failed. */
export function findUsableAddon(root: string = packageRoot, env: NodeJS.ProcessEnv = process.env): AddonCandidate {
  const candidates = addonCandidates(root, env);
  const failures: string[] = [];
  for (const candidate of candidates) {
    const probe: ProbeResult = existsSync(candidate.path) ? probeAddon(candidate.path) : { ok: false, reason: 'no such file' };
    if (probe.ok) return candidate;
    failures.push(`${candidate.source} ${candidate.path}: ${probe.reason}`);
  }
  const tried = failures.length > 0 ? failures.join('; ') : `no ${prebuildPath(root)} and no ${localBuildPath(root)}`;
  throw new Error(
    `no engine addon that runs on this machine (${process.platform}-${process.arch}): ${tried}. ` +
      'Build one here with "npm run build" in a checkout, or "npm rebuild bitnetd" for an installed package (needs cmake, make and g++).',
  );
}
