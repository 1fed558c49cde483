// ajv's errors as one sentence a person can act on: `temperature must be <= 100; unknown field "foo"`.
import type { ErrorObject } from 'ajv';

/** A field's dotted path as the client named it (the Ollama API calls max_tokens options.num_predict). */
export type FieldNames = (path: string) => string;

export function describeErrors(errors: readonly ErrorObject[], fieldName: FieldNames = (p) => p): string {
  const parts = errors.map((e) => {
    const path = e.instancePath.replace(/^\//, '').replaceAll('/', '.');
    const where = path && fieldName(path);
    if (e.keyword === 'additionalProperties') {
      const field = String((e.params as { additionalProperty: string }).additionalProperty);
      return `unknown field "${where ? where + '.' : ''}${field}"`;
    }
    if (e.keyword === 'pattern' && typeof e.parentSchema?.['description'] === 'string') {
      return `${where} ${e.parentSchema['description']}`;
    }
    if (e.keyword === 'enum') {
      return `${where} must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
    }
    return `${where || 'request'} ${e.message ?? 'is invalid'}`;
  });
  return [...new Set(parts)].join('; ');
}
