// Every recipe the fuzzer saved (test/fuzz/regressions/*.json, and the defects found by hand before it
// existed) replayed against the loader as it is now: refused clearly or loaded, never a crash, a hang or
// a blow-up of memory.
import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyRecipe, type Recipe } from './gguf-mutations.js';
import { DEFAULT_LIMITS, isFailure, runCase } from './run-case.js';
import { REGRESSIONS, seedModel } from './seeds.js';

const recipes = readdirSync(REGRESSIONS)
  .filter((f) => f.endsWith('.json'))
  .sort();
const dir = mkdtempSync(join(tmpdir(), 'bitnetd-regress-'));
test.after.always(() => rmSync(dir, { recursive: true, force: true }));

test('there are regression cases to replay', (t) => {
  t.true(recipes.length >= 3, `${recipes.length} recipes in ${REGRESSIONS}`);
});

for (const name of recipes) {
  test(`${name} is refused clearly or loads`, async (t) => {
    const recipe = JSON.parse(readFileSync(join(REGRESSIONS, name), 'utf8')) as Recipe;
    const file = join(dir, name.replace(/\.json$/, '.gguf'));
    writeFileSync(file, applyRecipe(await seedModel(recipe.model), recipe));
    const outcome = await runCase(file, DEFAULT_LIMITS);
    t.false(isFailure(outcome), `${outcome.kind}: ${outcome.detail}`);
    t.log(`${outcome.kind}: ${outcome.detail.slice(0, 200)} (peak RSS ${Math.round(outcome.peakRss / 1e6)} MB)`);
  });
}
