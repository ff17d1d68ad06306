import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { compileRoute, validate } from '../../src/http/compile.js';
import { defineRoute } from '../../src/http/route.js';
import { ERROR_DETAIL, Nullable, StringEnum } from '../../src/http/schemas.js';
import { MnemoError } from '../../src/errors.js';

const route = defineRoute({
  method: 'POST',
  path: '/things/:id',
  face: 'layer',
  auth: 'none',
  summary: 'test',
  schema: {
    params: Type.Object({ id: Type.Integer({ minimum: 1 }) }),
    querystring: Type.Object({
      tags: Type.Optional(Type.Array(Type.String())),
      limit: Type.Optional(Type.Integer()),
    }),
    body: Type.Object({
      name: Type.String({ minLength: 1, maxLength: 5 }),
      kind: Type.Optional(StringEnum(['a', 'b'], { default: 'a' })),
      note: Type.Optional(Nullable(Type.String())),
    }),
    response: { 200: Type.Object({ ok: Type.Boolean() }) },
  },
  handler: async () => ({ ok: true }),
});

function detail(fn: () => void): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(MnemoError);
    expect((err as MnemoError).code).toBe('validation');
    return (err as MnemoError).message;
  }
  throw new Error('expected a validation error');
}

describe('route validation', () => {
  const compiled = compileRoute(route);

  it('names the missing field', () => {
    expect(detail(() => validate(compiled.validateBody, {}, 'body'))).toBe('body.name is required');
  });

  it('names a field of the wrong type', () => {
    expect(detail(() => validate(compiled.validateBody, { name: 5 }, 'body'))).toBe(
      'body.name must be string',
    );
  });

  it('reports limits', () => {
    expect(detail(() => validate(compiled.validateBody, { name: 'toolong' }, 'body'))).toMatch(
      /^body\.name must NOT have more than 5 characters/,
    );
  });

  it('lists the allowed values of an enum', () => {
    expect(detail(() => validate(compiled.validateBody, { name: 'x', kind: 'c' }, 'body'))).toBe(
      'body.kind must be one of: a, b',
    );
  });

  it('applies defaults and accepts null for nullable fields', () => {
    const body: Record<string, unknown> = { name: 'x', note: null };
    validate(compiled.validateBody, body, 'body');
    expect(body.kind).toBe('a');
  });

  it('coerces path and query strings', () => {
    const params: Record<string, unknown> = { id: '7' };
    validate(compiled.validateParams, params, 'path');
    expect(params.id).toBe(7);
    expect(detail(() => validate(compiled.validateParams, { id: 'x' }, 'path'))).toBe(
      'path.id must be integer',
    );
    expect(compiled.arrayQueryParams.has('tags')).toBe(true);
  });

  it('serializes only declared response fields', () => {
    const serialize = compiled.serializers.get(200) as (v: unknown) => string;
    expect(serialize({ ok: true, secret: 'x' })).toBe('{"ok":true}');
  });
});

describe('a declared error detail', () => {
  const compiled = compileRoute(
    defineRoute({
      method: 'POST',
      path: '/things',
      face: 'layer',
      auth: 'none',
      summary: 'test',
      schema: {
        body: Type.Object({
          colours: Type.Optional(
            Nullable(
              Type.Array(StringEnum(['red', 'blue']), {
                minItems: 1,
                maxItems: 2,
                [ERROR_DETAIL]: 'Invalid colour. Use: red, blue',
              }),
            ),
          ),
          shape: Type.Optional(
            Type.Object(
              { sides: Type.Integer({ minimum: 3, [ERROR_DETAIL]: 'A shape has 3 sides or more' }) },
              { [ERROR_DETAIL]: 'Invalid shape' },
            ),
          ),
          name: Type.Optional(Type.String()),
        }),
        response: { 200: Type.Object({ ok: Type.Boolean() }) },
      },
      handler: async () => ({ ok: true }),
    }),
  );
  const check = (body: unknown) => detail(() => validate(compiled.validateBody, body, 'body'));

  it('answers every failure of the field with it', () => {
    for (const colours of ['red', 5, {}, [], ['green'], ['red', 7], [['red']], ['red', 'blue', 'red']])
      expect(check({ colours })).toBe('Invalid colour. Use: red, blue');
    for (const colours of [null, ['red'], ['blue', 'red']])
      expect(() => validate(compiled.validateBody, { colours }, 'body')).not.toThrow();
  });

  it('prefers the innermost declaration and leaves other fields alone', () => {
    expect(check({ shape: 'square' })).toBe('Invalid shape');
    expect(check({ shape: {} })).toBe('Invalid shape');
    expect(check({ shape: { sides: 2 } })).toBe('A shape has 3 sides or more');
    expect(check({ shape: { sides: 'four' } })).toBe('A shape has 3 sides or more');
    expect(check({ name: 5 })).toBe('body.name must be string');
    expect(check('x')).toBe('body must be object');
  });
});
