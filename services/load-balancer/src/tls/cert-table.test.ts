import { describe, expect, it } from 'vitest';
import { certificateNames, dnsNamesOfSan, normaliseHostName } from './cert-names.js';
import { buildCertTable, type CertEntry, planPairs, selectCertificate } from './cert-table.js';
import { httpsRedirect } from './redirect.js';

const pair = (file: string, ...names: string[]): CertEntry<string> => ({ file, names, context: file });

describe('certificate names', () => {
  it.each([
    ['DNS:a.test, DNS:*.a.test', ['a.test', '*.a.test']],
    ['DNS:A.Test., IP Address:127.0.0.1, DNS:b.test', ['a.test', 'b.test']],
    ['IP Address:10.0.0.1', []],
    ['DNS:"evil, name", DNS:ok.test', ['ok.test']],
    [undefined, []],
  ])('SAN %s → %o', (san, names) => {
    expect(dnsNamesOfSan(san)).toEqual(names);
  });
  it('falls back to the subject CN only when there is no SAN DNS name', () => {
    expect(certificateNames({ subject: 'C=DE\nCN=Old.Test', subjectAltName: undefined })).toEqual([
      'old.test',
    ]);
    expect(certificateNames({ subject: 'CN=old.test', subjectAltName: 'DNS:new.test' })).toEqual([
      'new.test',
    ]);
    expect(certificateNames({ subject: 'O=nobody' })).toEqual([]);
  });
  it('normalises like a Host header: case, space, one trailing dot', () => {
    expect(normaliseHostName(' WWW.A.Test. ')).toBe('www.a.test');
  });
});

describe('selectCertificate', () => {
  const table = buildCertTable([
    pair('wild', '*.a.test'),
    pair('b', 'b.test', 'www.b.test'),
    pair('exact', 'api.a.test'),
    pair('zz-fallback-not-first', 'z.test'),
  ]);
  it.each([
    ['api.a.test', 'exact'], // exact beats the wildcard that also covers it
    ['API.A.TEST.', 'exact'],
    ['web.a.test', 'wild'],
    ['a.test', 'b'], // a wildcard covers one label below its parent, not the parent itself
    ['x.web.a.test', 'b'], // nor two labels below
    ['www.b.test', 'b'],
    ['unknown.test', 'b'], // unknown name: the default, here the first pair by file name
    [undefined, 'b'], // no SNI: the default
    ['', 'b'],
    ['localhost', 'b'],
  ])('%s → %s', (sni, file) => {
    expect(selectCertificate(table, sni)?.file).toBe(file);
  });

  it('default.crt is the default when it exists, whatever its name sorts as', () => {
    const t = buildCertTable([pair('aaa', 'a.test'), pair('default', 'd.test')]);
    expect(selectCertificate(t, undefined)?.file).toBe('default');
    expect(selectCertificate(t, 'nothing.test')?.file).toBe('default');
    expect(selectCertificate(t, 'a.test')?.file).toBe('aaa');
  });

  it('two pairs claiming a name: the first by file name keeps it, whatever the input order, and the conflict is reported', () => {
    for (const order of [
      [pair('one', 'x.test'), pair('two', 'x.test', 'y.test')],
      [pair('two', 'x.test', 'y.test'), pair('one', 'x.test')],
    ]) {
      const t = buildCertTable(order);
      expect(selectCertificate(t, 'x.test')?.file).toBe('one');
      expect(selectCertificate(t, 'y.test')?.file).toBe('two');
      expect(t.conflicts).toEqual([{ name: 'x.test', kept: 'one', ignored: 'two' }]);
    }
  });

  it('wildcards in other positions match nothing', () => {
    const t = buildCertTable([pair('d', 'd.test'), pair('odd', 'a*.c.test', '*.*.c.test')]);
    expect(selectCertificate(t, 'ab.c.test')?.file).toBe('d');
    expect(selectCertificate(t, 'x.y.c.test')?.file).toBe('d');
  });

  it('an empty table has no certificate to offer', () => {
    expect(selectCertificate(buildCertTable<string>([]), 'a.test')).toBeUndefined();
  });
});

describe('planPairs', () => {
  it('pairs .crt with .key by base name, reports halves, ignores dotfiles and other files', () => {
    expect(
      planPairs([
        'b.key',
        'a.crt',
        'a.key',
        'b.crt',
        'c.crt',
        'd.key',
        '.x.crt',
        '.x.key',
        'README',
        'e.pem',
      ]),
    ).toEqual({
      pairs: [
        { name: 'a', crt: 'a.crt', key: 'a.key' },
        { name: 'b', crt: 'b.crt', key: 'b.key' },
      ],
      incomplete: [
        { name: 'c', present: 'c.crt', missing: 'c.key' },
        { name: 'd', present: 'd.key', missing: 'd.crt' },
      ],
    });
  });
});

describe('httpsRedirect', () => {
  it.each([
    ['a.test', '/x?y=1', 443, 'https://a.test/x?y=1'],
    ['A.Test:8080', '/', 443, 'https://a.test/'],
    ['a.test:8080', '/p', 8443, 'https://a.test:8443/p'],
    ['[::1]:8080', '/p', 443, 'https://[::1]/p'],
    ['127.0.0.1', '/', 443, 'https://127.0.0.1/'],
    ['a.test', 'http://a.test/abs?q', 443, 'https://a.test/abs?q'],
  ])('%s %s (TLS port %i) → %s', (host, url, port, location) => {
    expect(httpsRedirect(host, url, port)).toEqual({ kind: 'redirect', location });
  });
  it('leaves ACME HTTP-01 challenges and asterisk-form requests to the backend', () => {
    expect(httpsRedirect('a.test', '/.well-known/acme-challenge/tok', 443)).toEqual({ kind: 'forward' });
    expect(httpsRedirect('a.test', '*', 443)).toEqual({ kind: 'forward' });
  });
  it.each([undefined, '', 'a.test/evil', 'a b', 'a.test:port', '[::1'])(
    'Host %o cannot be redirected to',
    (host) => {
      expect(httpsRedirect(host, '/', 443)).toEqual({ kind: 'bad-host' });
    },
  );
});
