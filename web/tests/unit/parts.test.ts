import { describe, expect, it } from 'vitest';
import { hasParts, partOfJob, planParts } from '../../src/lib/parts';
import { apiWarnings, planWarnings } from '../../src/lib/plan';

const ONE = { fragments: 900, fragment_size: 50, parity_frames: 90, parts: 1, part_fragments: 900, last_part_fragments: 900, part_parity_frames: 90, last_part_parity_frames: 90 };
const THREE = { fragments: 2500, fragment_size: 50, parity_frames: 251, parts: 3, part_fragments: 1000, last_part_fragments: 500, part_parity_frames: 100, last_part_parity_frames: 51 };

describe('planParts', () => {
  it('says nothing of parts for an image in one session', () => {
    expect(planParts(ONE)).toBeNull();
    expect(planParts({ fragments: 10 })).toBeNull();
  });

  it('names the parts, their fragments and parity, the last apart', () => {
    expect(planParts(THREE)).toEqual({
      fragments: 'in 3 parts of 1000 fragments (last: 500)',
      parity: '100 per part (last: 51), 251 in all',
    });
  });

  it('leaves "last" out when the last part is as the others', () => {
    const even = { ...THREE, fragments: 3000, parity_frames: 300, last_part_fragments: 1000, last_part_parity_frames: 100 };
    expect(planParts(even)).toEqual({ fragments: 'in 3 parts of 1000 fragments', parity: '100 per part, 300 in all' });
  });
});

describe('the part under way', () => {
  it('is shown only for a job in parts', () => {
    expect(hasParts({ parts: 1 })).toBe(false);
    expect(hasParts({})).toBe(false);
    expect(hasParts(null)).toBe(false);
    expect(partOfJob({ parts: 1, part: 1 })).toBeNull();
    expect(partOfJob({ parts: 3, part: 2 })).toBe('part 2 of 3');
  });

  it('stays within 1..parts whatever the API says', () => {
    expect(partOfJob({ parts: 3 })).toBe('part 1 of 3');
    expect(partOfJob({ parts: 3, part: 0 })).toBe('part 1 of 3');
    expect(partOfJob({ parts: 3, part: 7 })).toBe('part 3 of 3');
  });
});

describe('plan warnings of parts', () => {
  const ctx = { devices: 2, multicastClass: 'C' as const, redundancy: 10 };
  it('warns that the application assembles the parts', () => {
    expect(planWarnings(THREE, ctx).some((w) => w.includes('3 parts'))).toBe(true);
    expect(planWarnings(ONE, ctx).some((w) => w.includes('parts'))).toBe(false);
  });

  it("shows the API's warnings, a bounded number of them", () => {
    const ws = Array.from({ length: 12 }, (_, i) => ({ code: 'device_parts', dev_eui: `00000000000000${String(i).padStart(2, '0')}`, message: `device ${i} cannot take parts` }));
    const out = apiWarnings(ws);
    expect(out).toHaveLength(11);
    expect(out[0]).toBe('device 0 cannot take parts');
    expect(out[10]).toBe('… and 2 more device warning(s).');
    expect(apiWarnings([{ code: 'device_memory', dev_eui: '0011223344556677' }])).toEqual(['device_memory (device 0011223344556677)']);
    expect(apiWarnings(undefined)).toEqual([]);
  });
});
