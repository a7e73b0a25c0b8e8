import { describe, expect, it } from 'vitest';
import { canonicalAddress, clientNetwork } from '../../../shared/http/client-network';

describe('clientNetwork (rate-limit keys)', () => {
  it('keeps an IPv4 address whole', () => {
    expect(clientNetwork('203.0.113.7')).toBe('203.0.113.7');
    expect(clientNetwork('300.0.0.1')).toBeNull();
  });

  it('keys every address of one IPv6 /64 alike, however it is written', () => {
    const network = '2001:db8:85a3:8d3::/64';
    for (const ip of ['2001:db8:85a3:8d3:1319:8a2e:370:7348', '2001:0DB8:85A3:08D3::1', '2001:db8:85a3:8d3:ffff::', '2001:db8:85a3:8d3::']) {
      expect([ip, clientNetwork(ip)]).toEqual([ip, network]);
    }
    expect(clientNetwork('2001:db8:85a3:8d4::1')).not.toBe(network);
    expect(clientNetwork('::1')).toBe('0:0:0:0::/64');
  });

  it('keys an IPv4-mapped IPv6 address (a dual-stack socket\'s IPv4 peer) as the IPv4 address it maps', () => {
    for (const [ip, network] of [
      ['::ffff:203.0.113.9', '203.0.113.9'],
      ['::FFFF:127.0.0.1', '127.0.0.1'],
      ['0:0:0:0:0:ffff:198.51.100.1', '198.51.100.1'],
      ['::ffff:cb00:7109', '203.0.113.9'],
      ['::ffff:7f00:2', '127.0.0.2'],
    ]) {
      expect([ip, clientNetwork(ip!)]).toEqual([ip, network]);
    }
    // Two IPv4 callers are two keys, not one shared 0:0:0:0::/64.
    expect(clientNetwork('::ffff:127.0.0.1')).not.toBe(clientNetwork('::ffff:127.0.0.2'));
    // Only ::ffff:0:0/96 maps; a bare ::ffff or another prefix stays IPv6.
    expect(clientNetwork('64:ff9b::203.0.113.9')).toBe('64:ff9b:0:0::/64');
    expect(clientNetwork('::ffff:300.0.0.1')).toBeNull();
  });

  it('refuses what is not an address', () => {
    for (const bad of ['', 'unknown', '1.2.3', '2001:db8::1::2', 'x:y::', '1:2:3:4:5:6:7:8:9', '1.2.3.4:5::', '::1.2.3.4:5', 'fffff::1']) expect([bad, clientNetwork(bad)]).toEqual([bad, null]);
  });
});

describe('canonicalAddress (comparing addresses)', () => {
  it('spells each address one way', () => {
    expect(canonicalAddress(' 203.0.113.9 ')).toBe('203.0.113.9');
    expect(canonicalAddress('::ffff:203.0.113.9')).toBe('203.0.113.9');
    expect(canonicalAddress('::ffff:cb00:7109')).toBe('203.0.113.9');
    expect(canonicalAddress('2001:0DB8::0001')).toBe('2001:db8:0:0:0:0:0:1');
    expect(canonicalAddress('2001:db8:0:0:0:0:0:1')).toBe('2001:db8:0:0:0:0:0:1');
    expect(canonicalAddress('::1')).toBe('0:0:0:0:0:0:0:1');
    for (const bad of ['', 'unknown', '10.0.0.0/8', '1.2.3']) expect([bad, canonicalAddress(bad)]).toEqual([bad, null]);
  });
});
