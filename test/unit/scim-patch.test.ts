import { describe, expect, it } from 'vitest';
import { MnemoError } from '../../src/errors.js';
import { applyPatch } from '../../src/scim/patch.js';
import { GROUP_NAMES, SCHEMAS, USER_NAMES } from '../../src/scim/schema-names.js';
import { parseScimUser } from '../../src/scim/user-resource.js';

const user = () => ({
  schemas: [SCHEMAS.user],
  id: 'usr_1',
  userName: 'a@x.com',
  name: { givenName: 'A', familyName: 'B' },
  active: true,
  meta: { version: 'W/"1"' },
});

function refusal(run: () => unknown): MnemoError {
  try {
    run();
  } catch (err) {
    if (err instanceof MnemoError) return err;
    throw err;
  }
  throw new Error('expected a refusal');
}

describe('SCIM PATCH as the IdPs send it', () => {
  it('takes op in any case and booleans as strings', () => {
    const out = applyPatch(user(), [{ op: 'Replace', path: 'active', value: 'False' }], USER_NAMES);
    expect(parseScimUser(out).active).toBe(false);
    expect(
      parseScimUser(applyPatch(out, [{ op: 'REPLACE', path: 'ACTIVE', value: 'True' }], USER_NAMES)).active,
    ).toBe(true);
  });
  it('applies a path-less object value, with dotted keys and extension objects (Entra)', () => {
    const out = applyPatch(
      user(),
      [
        {
          op: 'replace',
          value: {
            active: false,
            'name.givenName': 'Z',
            displayname: 'Zed',
            [SCHEMAS.enterpriseUser]: { department: 'R&D' },
            id: 'usr_other',
          },
        },
      ],
      USER_NAMES,
    );
    expect(out).toMatchObject({
      id: 'usr_1',
      active: false,
      displayName: 'Zed',
      name: { givenName: 'Z', familyName: 'B' },
      [SCHEMAS.enterpriseUser]: { department: 'R&D' },
    });
  });
  it('creates the element a value filter describes when none matches, and changes it when one does', () => {
    const created = applyPatch(
      user(),
      [{ op: 'Add', path: 'emails[type eq "work"].value', value: 'a@work.com' }],
      USER_NAMES,
    );
    expect(created.emails).toEqual([{ type: 'work', value: 'a@work.com' }]);
    const changed = applyPatch(
      created,
      [{ op: 'replace', path: 'emails[type eq "work"].value', value: 'b@work.com' }],
      USER_NAMES,
    );
    expect(changed.emails).toEqual([{ type: 'work', value: 'b@work.com' }]);
    const removed = applyPatch(changed, [{ op: 'remove', path: 'emails[type eq "work"]' }], USER_NAMES);
    expect(removed.emails).toEqual([]);
  });
  it('writes extension paths and sub-attributes, and removes them', () => {
    const out = applyPatch(
      user(),
      [
        { op: 'add', path: `${SCHEMAS.enterpriseUser}:department`, value: 'Ops' },
        { op: 'remove', path: 'name.familyName' },
      ],
      USER_NAMES,
    );
    expect(out[SCHEMAS.enterpriseUser]).toEqual({ department: 'Ops' });
    expect(out.name).toEqual({ givenName: 'A' });
  });
  it('adds members without duplicates, removes them by value list or by filter, replaces them', () => {
    const group = { schemas: [SCHEMAS.group], id: 'g', displayName: 'G', members: [{ value: 'u1' }] };
    let out = applyPatch(
      group,
      [{ op: 'add', path: 'members', value: [{ value: 'u1' }, { value: 'u2' }] }],
      GROUP_NAMES,
    );
    expect(out.members).toEqual([{ value: 'u1' }, { value: 'u2' }]);
    out = applyPatch(out, [{ op: 'remove', path: 'members', value: [{ value: 'u1' }] }], GROUP_NAMES);
    expect(out.members).toEqual([{ value: 'u2' }]);
    out = applyPatch(out, [{ op: 'remove', path: 'members[value eq "u2"]' }], GROUP_NAMES);
    expect(out.members).toEqual([]);
    out = applyPatch(out, [{ op: 'replace', path: 'members', value: [{ value: 'u3' }] }], GROUP_NAMES);
    expect(out.members).toEqual([{ value: 'u3' }]);
    out = applyPatch(out, [{ op: 'replace', value: { id: 'g', displayName: 'New' } }], GROUP_NAMES);
    expect(out).toMatchObject({ id: 'g', displayName: 'New', members: [{ value: 'u3' }] });
  });
  it('refuses unknown ops, read-only paths and missing values, and leaves the input alone', () => {
    const input = user();
    expect(
      refusal(() => applyPatch(input, [{ op: 'move', path: 'active', value: true }], USER_NAMES)).meta
        .scimType,
    ).toBe('invalidSyntax');
    expect(
      refusal(() => applyPatch(input, [{ op: 'replace', path: 'meta', value: {} }], USER_NAMES)).meta
        .scimType,
    ).toBe('mutability');
    expect(refusal(() => applyPatch(input, [{ op: 'add', path: 'title' }], USER_NAMES)).meta.scimType).toBe(
      'invalidValue',
    );
    expect(refusal(() => applyPatch(input, [{ op: 'remove' }], USER_NAMES)).meta.scimType).toBe('noTarget');
    expect(
      refusal(() =>
        applyPatch(
          input,
          [{ op: 'replace', path: 'emails[type pr or value pr].value', value: 'x' }],
          USER_NAMES,
        ),
      ).meta.scimType,
    ).toBe('noTarget');
    expect(input).toEqual(user());
  });
});
