// npm's install step for bitnetd: use the prebuilt engine addon for this platform (prebuilds/, made by
// npm run cross and shipped in the package) when it runs on this machine, and build it from source
// only otherwise, or when asked to (npm install --build-from-source).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const target = `${process.platform}-${process.arch}`;
const prebuild = join(root, 'prebuilds', target, 'bitnetd.node');
// The loader is compiled TypeScript: present in the package, absent in a fresh checkout (which has no
// prebuilds either, so it builds).
const loader = join(root, 'dist', 'daemon', 'engine', 'addon', 'addon-loader.js');

async function usablePrebuild() {
  if (process.env['npm_config_build_from_source'] === 'true') return false;
  if (!existsSync(prebuild) || !existsSync(loader)) {
    console.log(`bitnetd: no prebuilt engine for ${target}; building it from source`);
    return false;
  }
  const { probeAddon } = await import(pathToFileURL(loader).href);
  const probe = probeAddon(prebuild);
  if (probe.ok) {
    console.log(`bitnetd: using the prebuilt engine for ${target} (kernels: ${probe.kernels.join(', ')})`);
    return true;
  }
  console.log(`bitnetd: the prebuilt engine for ${target} does not run here (${probe.reason}); building it from source`);
  return false;
}

if (!(await usablePrebuild())) {
  const cmakeJs = createRequire(import.meta.url).resolve('cmake-js/bin/cmake-js');
  const build = spawnSync(process.execPath, [cmakeJs, 'compile', '-d', 'native', '-O', 'build', '-p', '2'], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) {
    console.error(
      'bitnetd: building the engine failed. It needs cmake, make and a C++17 compiler ' +
        '(Debian and Raspberry Pi OS: sudo apt-get install cmake make g++); then run "npm rebuild bitnetd".',
    );
    process.exit(build.status ?? 1);
  }
}
