// Configuration sources and their order: defaults < file < environment < flags.
import test from 'ava';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { ConfigError, loadConfig } from '../../daemon/config/load.js';
import { configJsonSchema } from '../../daemon/config/json-schema.js';
import { CLI } from '../helpers/paths.js';

function file(settings: unknown): string {
  const path = join(mkdtempSync(join(tmpdir(), 'bitnetd-conf-')), 'config.json');
  writeFileSync(path, typeof settings === 'string' ? settings : JSON.stringify(settings));
  return path;
}

test('each source overrides the one before it', (t) => {
  const path = file({ model: { path: '/from/file', threads: 3 }, queue: { max: 7 }, node_id: 'filenode' });
  const env = { BITNETD_MODEL_PATH: '/from/env', BITNETD_QUEUE_MAX: '9' };
  const { config, file: read } = loadConfig({ file: path, env, overrides: { 'model.path': '/from/flag' } });
  t.is(read, path);
  t.is(config.model.path, '/from/flag');
  t.is(config.queue.max, 9, 'env over file');
  t.is(config.model.threads, 3, 'file over default');
  t.is(config.node_id, 'filenode');
  t.is(config.mqtt.url, 'mqtt://localhost:1883', 'default');
});

test('systemd directories move the default paths', (t) => {
  const env = { CONFIGURATION_DIRECTORY: '/nowhere/conf', STATE_DIRECTORY: '/srv/state', RUNTIME_DIRECTORY: '/run/x' };
  const { config, file: read } = loadConfig({ env });
  t.is(read, undefined, 'a missing default file is fine');
  t.is(config.model.path, '/srv/state/models/ggml-model-i2_s.gguf');
  t.is(config.socket.path, '/run/x/bitnetd.sock');
});

test('a missing --config file, broken JSON and a non-object are configuration errors', (t) => {
  t.throws(() => loadConfig({ file: '/nonexistent/bitnetd.json', env: {} }), { instanceOf: ConfigError, message: /no such file/ });
  t.throws(() => loadConfig({ file: file('{ nope'), env: {} }), { instanceOf: ConfigError, message: /not valid JSON/ });
  t.throws(() => loadConfig({ file: file('[1]'), env: {} }), { instanceOf: ConfigError, message: /must hold a JSON object/ });
});

test('config --print masks secrets; --schema is a JSON schema of every setting', (t) => {
  const out = execFileSync(process.execPath, [CLI, 'config', '--print', '--config', file({ mqtt: { password: 'hunter2' } })], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const printed = JSON.parse(out) as { mqtt: { password: string } };
  t.is(printed.mqtt.password, '[Sensitive]');
  t.false(out.includes('hunter2'));
  const schema = JSON.parse(execFileSync(process.execPath, [CLI, 'config', '--schema'], { encoding: 'utf8' })) as {
    properties: Record<string, { properties: Record<string, { description: string; default: unknown; enum?: unknown[] }> }>;
  };
  t.is(schema.properties['mqtt']!.properties['protocol_version']!.default, 5);
  t.deepEqual(schema.properties['mqtt']!.properties['protocol_version']!.enum, [5, 4]);
  t.regex(schema.properties['model']!.properties['path']!.description, /Environment: BITNETD_MODEL_PATH/);
  t.is(schema.properties['mqtt']!.properties['password']!.default, '', 'no secret in the schema');
});

test('config --print with a bad setting exits 78', (t) => {
  const r = spawnSync(process.execPath, [CLI, 'config', '--print', '--threads', 'many'], { encoding: 'utf8', env: { ...process.env, BITNETD_NODE_ID: 'has space' } });
  t.is(r.status, 78);
  t.regex(r.stderr, /model\.threads: must be a positive integer/);
  t.regex(r.stderr, /node_id: must be 1-64 letters, digits, _ or -: value was "has space" \(from BITNETD_NODE_ID\)/);
});

test('the JSON schema accepts the defaults it lists, and refuses a wrong type', (t) => {
  const schema = configJsonSchema();
  const validate = new Ajv({ strict: false }).compile(schema);
  const { config } = loadConfig({ env: {} });
  t.true(validate(JSON.parse(JSON.stringify(config))), JSON.stringify(validate.errors));
  t.false(validate({ http: { port: '11434' } }), 'a port is a number');
  t.false(validate({ wyoming: { languages: 'en' } }), 'languages are a list');
});

test('a list of languages comes from the environment comma-separated, and is checked', (t) => {
  t.deepEqual(loadConfig({ env: { BITNETD_WYOMING_LANGUAGES: 'en, de,pt-BR' } }).config.wyoming.languages, ['en', 'de', 'pt-BR']);
  t.deepEqual(loadConfig({ env: {} }).config.wyoming.languages, ['en']);
  t.throws(() => loadConfig({ env: { BITNETD_WYOMING_LANGUAGES: 'english!' } }), { instanceOf: ConfigError, message: /wyoming\.languages: must be a list of language codes/ });
});
