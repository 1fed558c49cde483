// The configuration schema as JSON Schema (draft-07), for editors and for "bitnetd config --schema".
import { configSchema } from './schema.js';

type JsonSchema = Record<string, unknown>;

interface Leaf {
  doc?: string;
  format: unknown;
  default: unknown;
  env?: string;
  sensitive?: boolean;
}

const isLeaf = (v: object): v is Leaf => 'default' in v;

function leafSchema(leaf: Leaf): JsonSchema {
  const out: JsonSchema = {};
  const f = leaf.format;
  if (Array.isArray(f)) out['enum'] = f;
  else if (f === Boolean) out['type'] = 'boolean';
  else if (f === String) out['type'] = 'string';
  else if (f === 'nat') Object.assign(out, { type: 'integer', minimum: 0 });
  else if (f === 'node-id') Object.assign(out, { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' });
  else if (f === 'file-mode') Object.assign(out, { type: 'string', pattern: '^0?[0-7]{3}$' });
  else if (f === 'port') Object.assign(out, { type: 'integer', minimum: 0, maximum: 65535 });
  else if (f === 'positive-int') Object.assign(out, { type: 'integer', minimum: 1 });
  else if (f === 'non-negative') Object.assign(out, { type: 'number', minimum: 0 });
  else if (f === 'language-list' || f === 'origin-list' || f === 'interface-list') Object.assign(out, { type: 'array', items: { type: 'string' } });
  else out['type'] = 'string';
  if (leaf.doc) out['description'] = leaf.doc + (leaf.env ? ` Environment: ${leaf.env}.` : '');
  out['default'] = leaf.sensitive ? '' : leaf.default;
  if (leaf.sensitive) out['writeOnly'] = true;
  return out;
}

function nodeSchema(node: Record<string, object>): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  for (const [key, value] of Object.entries(node)) {
    properties[key] = isLeaf(value) ? leafSchema(value) : nodeSchema(value as Record<string, object>);
  }
  return { type: 'object', additionalProperties: false, properties };
}

export function configJsonSchema(): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'bitnetd configuration (/etc/bitnetd/config.json)',
    ...nodeSchema(configSchema() as unknown as Record<string, object>),
  };
}
