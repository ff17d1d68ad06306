import { describe, expect, it } from 'vitest';
import { MnemoError } from '../../src/errors.js';
import { matches } from '../../src/scim/filter-eval.js';
import { parseFilter, parsePatchPath } from '../../src/scim/filter-parser.js';

const alice = {
  schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
  id: 'usr_A1',
  externalId: 'Ext-1',
  userName: 'Alice@Contoso.com',
  displayName: 'Alice Smith',
  active: true,
  name: { givenName: 'Alice', familyName: 'Smith' },
  emails: [
    { value: 'alice@contoso.com', type: 'work', primary: true },
    { value: 'alice@home.example', type: 'home' },
  ],
  'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'R&D', employeeNumber: '42' },
  meta: { created: '2026-01-02T03:04:05.000Z', version: 'W/"abc"' },
  loginCount: 7,
};

const is = (filter: string) => matches(parseFilter(filter), alice);

function refusal(run: () => unknown): MnemoError {
  try {
    run();
  } catch (err) {
    if (err instanceof MnemoError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('SCIM filter operators', () => {
  it('eq compares userName case-insensitively, id and externalId exactly', () => {
    expect(is('userName eq "alice@contoso.com"')).toBe(true);
    expect(is('userName eq "bob@contoso.com"')).toBe(false);
    expect(is('externalId eq "Ext-1"')).toBe(true);
    expect(is('externalId eq "ext-1"')).toBe(false);
    expect(is('id eq "usr_a1"')).toBe(false);
    expect(is('active eq true')).toBe(true);
    expect(is('active eq false')).toBe(false);
    expect(is('loginCount eq 7')).toBe(true);
  });
  it('ne is the negation of eq (absent attributes are not equal)', () => {
    expect(is('userName ne "bob"')).toBe(true);
    expect(is('userName ne "ALICE@contoso.com"')).toBe(false);
    expect(is('title ne "boss"')).toBe(true);
    expect(is('title eq null')).toBe(true);
    expect(is('userName ne null')).toBe(true);
  });
  it('co, sw and ew match substrings ignoring case', () => {
    expect(is('userName co "CONTOSO"')).toBe(true);
    expect(is('userName co "fabrikam"')).toBe(false);
    expect(is('userName sw "alice"')).toBe(true);
    expect(is('userName sw "contoso"')).toBe(false);
    expect(is('userName ew ".COM"')).toBe(true);
    expect(is('userName ew "alice"')).toBe(false);
  });
  it('pr is true only for attributes with a value', () => {
    expect(is('displayName pr')).toBe(true);
    expect(is('title pr')).toBe(false);
    expect(is('name.middleName pr')).toBe(false);
    expect(is('emails pr')).toBe(true);
  });
  it('gt, ge, lt and le order strings (timestamps) and numbers', () => {
    expect(is('meta.created gt "2026-01-01T00:00:00Z"')).toBe(true);
    expect(is('meta.created lt "2026-01-01T00:00:00Z"')).toBe(false);
    expect(is('loginCount ge 7')).toBe(true);
    expect(is('loginCount gt 7')).toBe(false);
    expect(is('loginCount le 7')).toBe(true);
    expect(is('loginCount lt 8')).toBe(true);
    expect(is('userName gt "aaa"')).toBe(true);
  });
});

describe('SCIM filter logic and paths', () => {
  it('and binds tighter than or; not and parentheses', () => {
    expect(is('userName eq "x" or userName sw "alice" and active eq true')).toBe(true);
    expect(is('(userName eq "x" or userName sw "alice") and active eq false')).toBe(false);
    expect(is('not (active eq false)')).toBe(true);
    expect(is('not (userName sw "alice") or displayName pr')).toBe(true);
    expect(is('not(userName sw "alice")')).toBe(false);
  });
  it('attribute names and operators ignore case; schema URIs prefix paths', () => {
    expect(is('USERNAME EQ "alice@contoso.com"')).toBe(true);
    expect(is('name.FamilyName Eq "smith"')).toBe(true);
    expect(is('urn:ietf:params:scim:schemas:core:2.0:User:userName eq "alice@contoso.com"')).toBe(true);
    expect(is('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "r&d"')).toBe(true);
    expect(is('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "hr"')).toBe(false);
  });
  it('multi-valued attributes match when any value does; complex values compare by value', () => {
    expect(is('emails eq "alice@home.example"')).toBe(true);
    expect(is('emails.value ew "home.example"')).toBe(true);
    expect(is('emails.type eq "other"')).toBe(false);
  });
  it('value filters select elements of a multi-valued attribute', () => {
    expect(is('emails[type eq "work" and value co "contoso"]')).toBe(true);
    expect(is('emails[type eq "home" and value co "contoso"]')).toBe(false);
    expect(is('emails[primary eq true] and userName sw "a"')).toBe(true);
  });
  it('parses PATCH paths with value filters and sub-attributes', () => {
    const path = parsePatchPath('emails[type eq "work"].value');
    expect(path.path.attr).toBe('emails');
    expect(path.sub).toBe('value');
    expect(path.filter).toEqual({
      kind: 'compare',
      path: { uri: null, attr: 'type', sub: null },
      op: 'eq',
      value: 'work',
    });
    expect(parsePatchPath('members[value eq "usr_1"]').filter).not.toBeNull();
    expect(parsePatchPath('name.givenName').path).toEqual({ uri: null, attr: 'name', sub: 'givenname' });
    const ext = parsePatchPath('urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department');
    expect(ext.path.uri).toBe('urn:ietf:params:scim:schemas:extension:enterprise:2.0:user');
    expect(ext.path.attr).toBe('department');
  });
  it('reads JSON string escapes', () => {
    expect(
      matches(parseFilter('displayName eq "Alice \\"Al\\" Smith"'), { displayName: 'Alice "Al" Smith' }),
    ).toBe(true);
  });
});

describe('malformed or unsupported filters are 400 invalidFilter', () => {
  const bad = [
    '',
    'userName',
    'userName eq',
    'userName equals "x"',
    'userName eq "x" and',
    '(userName eq "x"',
    'userName eq "x")',
    'userName eq "unterminated',
    'userName eq x',
    'active gt true',
    'title lt null',
    'userName co 3',
    'emails[type eq "work"',
    'emails[type[value eq "x"] eq "y"]',
    'name.givenName.first eq "x"',
    '1abc eq "x"',
    'userName eq "x" # comment',
    'http:foo eq "x"',
    'not',
    `${'('.repeat(40)}userName pr${')'.repeat(40)}`,
    `userName eq "${'x'.repeat(2100)}"`,
  ];
  for (const filter of bad) {
    it(`refuses ${JSON.stringify(filter.slice(0, 40))}`, () => {
      const err = refusal(() => parseFilter(filter));
      expect(err.status).toBe(400);
      expect(err.meta.scimType).toBe('invalidFilter');
    });
  }
  it('a malformed PATCH path is invalidPath', () => {
    for (const path of ['', 'emails[', 'emails[type eq "work"].', 'a.b.c', 'members[value eq "x"] extra']) {
      const err = refusal(() => parsePatchPath(path));
      expect(err.meta.scimType).toBe('invalidPath');
    }
  });
});
