import { describe, expect, it } from 'vitest';
import { buildEvent, serializeEvent, type RequestView } from '@griddispatch/contracts';
import { cleanDeep, cleanText } from './format.ts';
import { renderRequestDetail } from './requests.ts';
import { formatTailLine, TailMemory } from './tail-format.ts';

// Issue 17.6: text others wrote (a work-order note, a name) cannot drive the operator's terminal.

const HOSTILE = [
  '\u001b[2J\u001b[H', // clear the screen, cursor home
  '\u001b]0;pwned\u0007', // set the window title
  '\u001b]8;;http://evil.example/\u001b\\link\u001b]8;;\u001b\\', // hyperlink
  '\u001b[31mred\u001b[0m',
  '\u009b1A', // C1 CSI: cursor up
  'a\rb', // carriage return overwrites the line
  '\u0008\u0007\u0000\u007f',
  '\u202eevil\u202c',
].join('');
// Anything that starts a control sequence or moves the cursor.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('cleanText', () => {
  it('drops escape sequences and control characters, keeps newlines, tabs and Chinese text', () => {
    expect(cleanText(HOSTILE)).toBe('linkredabevil');
    expect(cleanText('已到现场\n\t抢修中')).toBe('已到现场\n\t抢修中');
    expect(cleanDeep({ a: ['\u001b[1mx', { b: 'y\u0007' }], n: 3, ok: true, none: null })).toEqual({ a: ['x', { b: 'y' }], n: 3, ok: true, none: null });
  });

  it('cleans a work-order note in a tail line', () => {
    const wo = '3f2a9c1e-5b6d-4c1a-9e2f-0a1b2c3d4e5f';
    const event = buildEvent({
      type: 'cn.griddispatch.workorder.updated.v1',
      source: 'intake',
      subject: wo,
      data: {
        workOrderId: wo,
        type: 'arrived',
        at: '2026-11-03T06:07:00Z',
        by: `S-1${HOSTILE}`,
        note: `到了${HOSTILE}`,
        previousStatus: 'en_route',
        status: 'arrived',
        gridId: 'HH-G03',
      },
    });
    const line = formatTailLine(
      { topic: 'workorders.events', key: wo, value: Buffer.from(serializeEvent(event)), headers: {}, partition: 0, offset: '0' },
      new TailMemory(),
      {
        now: new Date('2026-11-03T06:08:00Z'),
        timeZone: 'Asia/Shanghai',
        color: false,
      },
    );
    expect(line).toContain('到了linkredabevil');
    expect(line).not.toMatch(CONTROL);
  });

  it('cleans notes and names in `requests show`, colours of our own still allowed', () => {
    const view: RequestView = {
      id: 'r-1',
      source: `95598${HOSTILE}`,
      externalId: 'GD1',
      category: 'fault_repair',
      status: 'arrived',
      receivedAt: '2026-11-03T06:05:00Z',
      grid: { id: 'HH-G03', name: `后湖3号网格${HOSTILE}`, kind: 'district' },
      callback: null,
      role: null,
      etr: null,
      incidentId: null,
      assignees: [{ staffId: 'S-1', name: `张国强${HOSTILE}`, role: 'manager' }],
      sla: null,
      timeline: [{ at: '2026-11-03T06:07:00Z', type: 'workorder.arrived', by: 'S-1', note: `到了${HOSTILE}` }],
    };
    const plain = renderRequestDetail(view, { now: new Date('2026-11-03T06:08:00Z'), timeZone: 'Asia/Shanghai', color: false });
    expect(plain).toContain('到了linkredabevil');
    expect(plain).not.toMatch(CONTROL);
    const coloured = renderRequestDetail(view, { now: new Date('2026-11-03T06:08:00Z'), timeZone: 'Asia/Shanghai', color: true });
    // Only our own SGR colour codes remain.
    // eslint-disable-next-line no-control-regex -- our colour codes
    expect(coloured.replace(/\u001b\[[0-9;]*m/g, '')).not.toMatch(CONTROL);
  });
});
