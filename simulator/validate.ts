import { type ErrorObject, errorObject, SimError } from './errors.js';
import type { Operation, Schema, Spec } from './spec.js';

/** Query parameters Apple accepts without declaring them: the opaque paging cursor of `links.next`. */
const UNDECLARED_OK = new Set(['cursor']);

/**
 * Validates the query string against the operation's declared parameters, as Apple does: an undeclared
 * parameter is PARAMETER_ERROR.ILLEGAL, a bad value PARAMETER_ERROR.INVALID, a missing required one
 * PARAMETER_ERROR.REQUIRED (all 400).
 */
export function validateQuery(op: Operation, query: URLSearchParams, spec: Spec): void {
  const declared = new Map(op.params.filter((p) => p.in === 'query').map((p) => [p.name, p]));
  const errors: ErrorObject[] = [];
  const seen = new Set<string>();
  for (const [name, value] of query) {
    if (seen.has(name)) {
      errors.push(
        errorObject(
          400,
          'PARAMETER_ERROR.INVALID',
          'A parameter has an invalid value',
          `'${name}' is given more than once`,
          { parameter: name },
        ),
      );
      continue;
    }
    seen.add(name);
    const param = declared.get(name);
    if (!param) {
      if (UNDECLARED_OK.has(name)) continue;
      errors.push(
        errorObject(
          400,
          'PARAMETER_ERROR.ILLEGAL',
          'A parameter is not allowed for this request',
          `The parameter '${name}' can not be used with this request`,
          {
            parameter: name,
          },
        ),
      );
      continue;
    }
    const problem = checkParam(spec.resolve(param.schema), value, spec, name.startsWith('limit'));
    if (problem) {
      errors.push(
        errorObject(
          400,
          'PARAMETER_ERROR.INVALID',
          'A parameter has an invalid value',
          `'${value}' is not a valid value for '${name}': ${problem}`,
          { parameter: name },
        ),
      );
    }
  }
  for (const p of declared.values()) {
    if (p.required && !seen.has(p.name)) {
      errors.push(
        errorObject(
          400,
          'PARAMETER_ERROR.REQUIRED',
          'A required parameter is missing',
          `The parameter '${p.name}' is required`,
          { parameter: p.name },
        ),
      );
    }
  }
  if (errors.length) throw new SimError(400, errors);
}

function checkParam(schema: Schema, value: string, spec: Spec, positive = false): string | undefined {
  if (schema.type === 'array') {
    const items = schema.items ? spec.resolve(schema.items) : {};
    const parts = value.split(',');
    if (parts.some((p) => p === '')) return 'empty list item';
    for (const part of parts) {
      const p = checkParam(items, part, spec);
      if (p) return p;
    }
    return undefined;
  }
  if (schema.enum && !schema.enum.includes(value)) return `expected one of ${schema.enum.join(', ')}`;
  if (schema.type === 'integer') {
    if (!/^-?\d+$/.test(value)) return 'expected an integer';
    const n = Number(value);
    if (schema.maximum !== undefined && n > schema.maximum) return `the maximum is ${schema.maximum}`;
    const min = schema.minimum ?? (positive ? 1 : undefined);
    if (min !== undefined && n < min) return `the minimum is ${min}`;
  }
  if (schema.type === 'boolean' && value !== 'true' && value !== 'false') return 'expected true or false';
  return undefined;
}

export interface Issue {
  pointer: string;
  kind: 'unknown' | 'type' | 'required' | 'enum' | 'range';
  message: string;
}

/**
 * A small JSON-schema validator for the OpenAPI subset (type, properties, required, enum, items, $ref,
 * oneOf, nullable, min/max). `strict` treats properties a schema does not declare as errors: Apple
 * rejects unknown attributes and relationships in request bodies.
 */
export function validateSchema(spec: Spec, schema: Schema, value: unknown, pointer = '', strict = false): Issue[] {
  const s = spec.resolve(schema);
  // OpenAPI 3.0 puts `nullable` beside a `$ref` (e.g. sourceFileChecksums), so check both levels.
  if (value === null)
    return schema.nullable || s.nullable ? [] : [{ pointer, kind: 'type', message: 'must not be null' }];
  if (s.oneOf || s.anyOf) {
    const options = (s.oneOf ?? s.anyOf)!;
    const results = options.map((o) => validateSchema(spec, o, value, pointer, strict));
    if (results.some((r) => r.length === 0)) return [];
    return results.sort((a, b) => a.length - b.length)[0] ?? [];
  }
  if (s.enum && !s.enum.includes(value)) {
    return [{ pointer, kind: 'enum', message: `'${String(value)}' is not one of ${s.enum.join(', ')}` }];
  }
  switch (s.type) {
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value))
        return [{ pointer, kind: 'type', message: 'must be an object' }];
      const obj = value as Record<string, unknown>;
      const issues: Issue[] = [];
      for (const r of s.required ?? [])
        if (obj[r] === undefined)
          issues.push({ pointer: `${pointer}/${r}`, kind: 'required', message: `'${r}' is required` });
      for (const [k, v] of Object.entries(obj)) {
        const ps = s.properties?.[k];
        if (ps) issues.push(...validateSchema(spec, ps, v, `${pointer}/${k}`, strict));
        else if (typeof s.additionalProperties === 'object')
          issues.push(...validateSchema(spec, s.additionalProperties, v, `${pointer}/${k}`, strict));
        else if (strict && s.properties && s.additionalProperties !== true)
          issues.push({ pointer: `${pointer}/${k}`, kind: 'unknown', message: `'${k}' is not a known member` });
      }
      return issues;
    }
    case 'array': {
      if (!Array.isArray(value)) return [{ pointer, kind: 'type', message: 'must be an array' }];
      return value.flatMap((v, i) => (s.items ? validateSchema(spec, s.items, v, `${pointer}/${i}`, strict) : []));
    }
    case 'string':
      if (typeof value !== 'string') return [{ pointer, kind: 'type', message: 'must be a string' }];
      if (s.format === 'date-time' && Number.isNaN(Date.parse(value)))
        return [{ pointer, kind: 'type', message: 'must be a date-time' }];
      return [];
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || (s.type === 'integer' && !Number.isInteger(value)))
        return [{ pointer, kind: 'type', message: `must be an ${s.type}` }];
      if (s.minimum !== undefined && value < s.minimum)
        return [{ pointer, kind: 'range', message: `must be at least ${s.minimum}` }];
      if (s.maximum !== undefined && value > s.maximum)
        return [{ pointer, kind: 'range', message: `must be at most ${s.maximum}` }];
      return [];
    }
    case 'boolean':
      return typeof value === 'boolean' ? [] : [{ pointer, kind: 'type', message: 'must be a boolean' }];
    default:
      return [];
  }
}

/**
 * Request bodies: a body that is not JSON:API-shaped at all is 422 ENTITY_UNPROCESSABLE; a well-formed
 * document with unacceptable data is 409 ENTITY_ERROR.* with `source.pointer`, one error per problem.
 */
export function validateBody(op: Operation, body: unknown, spec: Spec): void {
  if (!op.requestSchema) return;
  const issues = validateSchema(spec, op.requestSchema, body, '', true);
  if (!issues.length) return;
  const structural = issues.filter(
    (i) => !/^\/data\/(attributes|relationships)\/.+|^\/data\/(type|id)$|^\/data\/\d+\/(type|id)$/.test(i.pointer),
  );
  if (structural.length) {
    throw new SimError(
      422,
      structural.map((i) =>
        errorObject(
          422,
          'ENTITY_UNPROCESSABLE',
          'The request entity is not valid.',
          `The request entity is not valid: ${i.pointer || '/'} ${i.message}`,
          {
            pointer: i.pointer || '/',
          },
        ),
      ),
    );
  }
  throw new SimError(
    409,
    issues.map((i) => {
      const area = i.pointer.includes('/relationships/') ? 'RELATIONSHIP' : 'ATTRIBUTE';
      const code =
        i.kind === 'unknown'
          ? `ENTITY_ERROR.${area}.UNKNOWN`
          : i.kind === 'required'
            ? `ENTITY_ERROR.${area}.REQUIRED`
            : i.kind === 'type'
              ? `ENTITY_ERROR.${area}.TYPE`
              : `ENTITY_ERROR.${area}.INVALID`;
      const fixedCode = /^\/data\/(type|\d+\/type)$/.test(i.pointer) ? 'ENTITY_ERROR.INCLUDED.INVALID_TYPE' : code;
      return errorObject(
        409,
        fixedCode,
        'The provided entity includes an invalid value',
        `${i.pointer}: ${i.message}`,
        { pointer: i.pointer },
      );
    }),
  );
}
