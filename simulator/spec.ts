import { readOperations, readSubset } from '../src/asc/schema/index.js';

/**
 * Apple's OpenAPI subset (src/asc/schema/openapi-subset.json) as the simulator uses it: an index of
 * operations with compiled path templates, and schema lookups. The simulator imports only the schema,
 * never the client's HTTP or resource code, so the two cannot share a misunderstanding.
 */

export type Schema = {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  oneOf?: Schema[];
  anyOf?: Schema[];
  allOf?: Schema[];
  additionalProperties?: boolean | Schema;
  nullable?: boolean;
  minimum?: number;
  maximum?: number;
  deprecated?: boolean;
};

export interface Parameter {
  name: string;
  in: 'query' | 'path' | 'header';
  required?: boolean;
  schema: Schema;
}

export interface Operation {
  method: string;
  template: string;
  key: string;
  regex: RegExp;
  params: Parameter[];
  requestSchema: Schema | undefined;
  responses: Record<string, Schema | undefined>;
}

export interface OpenApiDoc {
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, Schema> };
}

export interface RelationshipDef {
  toMany: boolean;
  type: string | undefined;
  /** Apple declares `links` (self, related) for this relationship; some declare only `data`. */
  links: boolean;
  data: boolean;
}

export interface Match {
  op?: Operation;
  pathParams: string[];
  missing?: 'not-simulated' | 'method' | 'path';
  /** Apple's "METHOD /template" of a not-simulated operation. */
  appleKey?: string;
}

function templateRegex(template: string): RegExp {
  return new RegExp(`^${template.replace(/\{[^}]+\}/g, '([^/]+)')}$`);
}

export class Spec {
  readonly operations: Operation[] = [];
  readonly schemas: Record<string, Schema>;
  /** Every operation in Apple's whole file, to tell "not simulated" from "does not exist". */
  private readonly appleOperations: [string, RegExp][];

  constructor(doc: OpenApiDoc, appleOperations: string[] = []) {
    this.schemas = doc.components.schemas;
    this.appleOperations = appleOperations.map((k) => [k, templateRegex(k.slice(k.indexOf(' ') + 1))]);
    for (const [template, item] of Object.entries(doc.paths)) {
      const shared = (item.parameters as Parameter[] | undefined) ?? [];
      const regex = templateRegex(template);
      for (const [m, raw] of Object.entries(item)) {
        if (m === 'parameters') continue;
        const op = raw as {
          parameters?: Parameter[];
          requestBody?: { content?: Record<string, { schema: Schema }> };
          responses: Record<string, { content?: Record<string, { schema: Schema }> }>;
        };
        const method = m.toUpperCase();
        this.operations.push({
          method,
          template,
          key: `${method} ${template}`,
          regex,
          params: [...shared, ...(op.parameters ?? [])],
          requestSchema: op.requestBody?.content?.['application/json']?.schema,
          responses: Object.fromEntries(
            Object.entries(op.responses).map(([status, r]) => [status, r.content?.['application/json']?.schema]),
          ),
        });
      }
    }
  }

  /**
   * Finds the operation for a method and path. Without one, `missing` tells what Apple would answer:
   * `not-simulated` (Apple defines it; 501), `method` (Apple defines the path, not the method; 405),
   * `path` (Apple defines neither; 404).
   */
  match(method: string, path: string): Match {
    for (const op of this.operations) {
      const m = op.regex.exec(path);
      if (m && op.method === method) return { op, pathParams: m.slice(1).map(decodeURIComponent) };
    }
    let pathKnown = false;
    for (const [key, regex] of this.appleOperations) {
      if (!regex.test(path)) continue;
      if (key.startsWith(`${method} `)) return { pathParams: [], missing: 'not-simulated', appleKey: key };
      pathKnown = true;
    }
    return { pathParams: [], missing: pathKnown ? 'method' : 'path' };
  }

  resolve(schema: Schema): Schema {
    let s = schema;
    while (s.$ref) {
      const name = s.$ref.replace('#/components/schemas/', '');
      const next = this.schemas[name];
      if (!next) throw new Error(`schema ${name} missing from the subset`);
      s = next;
    }
    return s;
  }

  /** The schema describing one resource type, e.g. "builds" → Build. */
  resourceSchema(type: string): Schema | undefined {
    for (const s of Object.values(this.schemas)) {
      const t = s.properties?.type;
      if (t?.enum?.length === 1 && t.enum[0] === type && s.properties?.id && s.properties?.attributes !== undefined)
        return s;
    }
    return undefined;
  }

  /** Relationship names of a resource type: to-many or not, the related type, whether Apple declares `links`. */
  relationships(type: string): Map<string, RelationshipDef> {
    const out = new Map<string, RelationshipDef>();
    const rels = this.resourceSchema(type)?.properties?.relationships;
    for (const [name, rel] of Object.entries(rels ? (this.resolve(rels).properties ?? {}) : {})) {
      const data = rel.properties?.data;
      const toMany = data?.type === 'array';
      const item = toMany ? data?.items : data;
      out.set(name, {
        toMany,
        type: item?.properties?.type?.enum?.[0] as string | undefined,
        links: rel.properties?.links !== undefined,
        data: data !== undefined,
      });
    }
    return out;
  }
}

let cached: Spec | undefined;
/** The subset shipped with ascend, loaded once per process (it is read-only). */
export function loadSpec(): Spec {
  cached ??= new Spec(readSubset() as OpenApiDoc, readOperations());
  return cached;
}
