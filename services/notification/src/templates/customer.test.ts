import { describe, expect, it } from 'vitest';
import { CustomerNoticeKind, type CustomerNoticeV1 } from '@griddispatch/contracts';
import { priorityOf } from '../use-cases/record-customer-notices.ts';
import { CUSTOMER_PARAMS, customerMessages } from './customer.ts';

const now = () => new Date('2026-12-07T06:10:00Z');
const notice = (kind: CustomerNoticeV1['kind']): CustomerNoticeV1 => ({
  subjectId: 'incident-1',
  subjectKind: kind.startsWith('planned') ? 'planned_outage' : 'incident',
  kind,
  stage: 'outage',
  part: 1,
  parts: 1,
  districts: { 'HH-TQ-017': '湖滨17号台区' },
  etr: '2026-12-08T01:00:00Z',
  restoredAt: '2026-12-07T09:42:00Z',
  start: '2026-12-20T00:00:00Z',
  end: '2026-12-20T06:00:00Z',
  reason: '10kV湖滨线检修',
  recipients: [],
});

describe('customer messages', () => {
  it('render every kind in zh-CN and English with its named params filled, in the station time zone', () => {
    for (const locale of ['zh-CN', 'en'] as const) {
      const render = customerMessages(locale, 'Asia/Shanghai', now);
      for (const kind of CustomerNoticeKind.options) {
        const { text, params } = render(kind, { notice: notice(kind), districtCode: 'HH-TQ-017', accountNo: '3301001234' });
        expect(Object.keys(params)).toEqual(CUSTOMER_PARAMS[kind]);
        for (const value of Object.values(params)) {
          expect(value).not.toBe('');
          expect(text).toContain(value);
        }
      }
    }
    const zh = customerMessages('zh-CN', 'Asia/Shanghai', now);
    // An ETR tomorrow shows its day; the planned window always does.
    expect(zh('outage.detected', { notice: notice('outage.detected'), districtCode: 'HH-TQ-017', accountNo: '3301001234' }).params).toEqual({
      area: '湖滨17号台区',
      account: '1234',
      etr: '12-08 09:00',
    });
    expect(zh('planned.announced', { notice: notice('planned.announced'), districtCode: 'HH-TQ-017', accountNo: '3301001234' }).text).toBe(
      '尊敬的客户：因10kV湖滨线检修，湖滨17号台区（户号尾号1234）将于12-20 08:00至12-20 14:00停电，请提前做好准备。',
    );
  });

  it('a 台区 missing from the notice shows its code', () => {
    const { params } = customerMessages(
      'en',
      'Asia/Shanghai',
      now,
    )('outage.restored', { notice: notice('outage.restored'), districtCode: 'HH-TQ-999', accountNo: '77' });
    expect(params).toEqual({ area: 'HH-TQ-999', account: '77', time: '17:42' });
  });

  it('send aquaculture and cold storage first, then important and vulnerable customers, businesses, residents', () => {
    expect(priorityOf(['aquaculture'])).toBe(0);
    expect(priorityOf(['commercial', 'cold_storage'])).toBe(0);
    expect(priorityOf(['vulnerable'])).toBe(1);
    expect(priorityOf(['commercial'])).toBe(2);
    expect(priorityOf(['resident'])).toBe(3);
    expect(priorityOf([])).toBe(3);
  });
});
