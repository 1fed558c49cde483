// npm run fuzz: a mutational fuzzer of the GGUF loader. Seed files are the synthetic models (micro and
// tiny, official and extended layouts); each case is a recipe of mutations (gguf-mutations.ts) loaded by
// the real loader in a child process (run-case.ts). A failing recipe is saved under
// test/fuzz/regressions/, where `npm test` replays it; the run ends with a summary and exits 1 when
// anything failed.
import { Command, InvalidArgumentError } from 'commander';
import { createHash } from 'node:crypto';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Random } from '../../daemon/synth/random.js';
import { applyRecipe, randomRecipe } from './gguf-mutations.js';
import { DEFAULT_LIMITS, isFailure, runCase, type Outcome } from './run-case.js';
import { REGRESSIONS, SEED_MODELS, seedModel } from './seeds.js';

const positive = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
};

const program = new Command('fuzz')
  .description('fuzz the GGUF loader with mutated synthetic models')
  .option('--seconds <n>', 'how long to run', positive, 120)
  .option('--seed <n>', 'the random seed (a run is the same cases for the same seed)', positive, 1)
  .option('--jobs <n>', 'cases at once', positive, 2)
  .option('--max-cases <n>', 'stop after this many cases', positive)
  .action(async (flags: { seconds: number; seed: number; jobs: number; maxCases?: number }) => {
    const seeds = new Map<string, Buffer>();
    for (const name of SEED_MODELS) seeds.set(name, await seedModel(name));
    // Case files in memory-backed storage when there is some: a case writes a whole model file.
    const work = join(process.platform === 'linux' ? '/dev/shm' : tmpdir(), `bitnetd-fuzz-${process.pid}`);
    mkdirSync(work, { recursive: true });
    const random = new Random(flags.seed);
    const deadline = Date.now() + flags.seconds * 1000;
    const counts: Record<Outcome['kind'], number> = { loaded: 0, refused: 0, signal: 0, timeout: 0, rss: 0, unclear: 0 };
    let cases = 0;
    let peakRss = 0;
    const failures: string[] = [];
    const worker = async (slot: number) => {
      while (Date.now() < deadline && (flags.maxCases === undefined || cases < flags.maxCases)) {
        const n = cases++;
        const model = SEED_MODELS[random.below(SEED_MODELS.length)]!;
        const recipe = randomRecipe(random, model, seeds.get(model)!);
        const file = join(work, `case-${slot}.gguf`);
        writeFileSync(file, applyRecipe(seeds.get(model)!, recipe));
        const outcome = await runCase(file, DEFAULT_LIMITS);
        counts[outcome.kind]++;
        peakRss = Math.max(peakRss, outcome.peakRss);
        if (isFailure(outcome)) {
          const id = createHash('sha256').update(JSON.stringify(recipe)).digest('hex').slice(0, 12);
          mkdirSync(REGRESSIONS, { recursive: true });
          writeFileSync(join(REGRESSIONS, `${model}-${id}.json`), JSON.stringify({ ...recipe, found: { seed: flags.seed, case: n, outcome } }, null, 2) + '\n');
          failures.push(`case ${n} (${model}): ${outcome.kind}: ${outcome.detail.slice(0, 300)} [${recipe.edits.map((e) => e.why).filter(Boolean).join('; ')}]`);
          process.stderr.write(`fuzz: FAILURE ${failures.at(-1)}\n`);
        }
        if ((n + 1) % 50 === 0) process.stderr.write(`fuzz: ${n + 1} cases, ${counts.refused} refused, ${counts.loaded} loaded, ${failures.length} failures\n`);
      }
    };
    const t0 = Date.now();
    await Promise.all(Array.from({ length: flags.jobs }, (_, i) => worker(i)));
    rmSync(work, { recursive: true, force: true });
    const summary = { seed: flags.seed, seconds: Math.round((Date.now() - t0) / 1000), cases, ...counts, failures: failures.length, peak_rss_mb: Math.round(peakRss / 1e6) };
    process.stdout.write(`fuzz: ${JSON.stringify(summary)}\n`);
    for (const f of failures) process.stdout.write(`  ${f}\n`);
    if (failures.length) {
      process.stdout.write(`fuzz: the failing recipes are in ${REGRESSIONS}; npm test replays them\n`);
      process.exitCode = 1;
    }
  });

await program.parseAsync(process.argv);
