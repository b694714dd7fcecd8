import { describe, expect, it } from 'vitest';
import { assignedData, breachedData, incidentData, unroutableData, updatedData, warningData } from '../testing/fixtures.ts';
import { catalog, type Rendered } from './index.ts';
import { replyCatalog } from './replies.ts';
import { STAFF_SMS_KINDS } from './sms-kinds.ts';

// NOTIFY_SMS_TEMPLATES is checked at boot against SMS_KINDS; this holds SMS_KINDS to what the
// catalog really renders, so a mapping accepted at boot never misses a parameter at send time.

const ID = '0a1b2c3d-0000-4000-8000-000000000001';

describe('SMS message kinds', () => {
  for (const locale of ['zh-CN', 'en'] as const) {
    it(`every kind's parameters are exactly what the ${locale} catalog renders`, () => {
      const c = catalog(locale, 'Asia/Shanghai');
      const replies = replyCatalog(locale);
      const rendered: Record<keyof typeof STAFF_SMS_KINDS, Rendered> = {
        'dispatch.assigned': c.dispatchAssigned(assignedData({ workOrderId: ID })),
        'dispatch.unroutable': c.dispatchUnroutable(unroutableData()),
        'workorder.updated': c.workOrderUpdated(updatedData(ID), null),
        'sla.warning': c.slaWarning(warningData(ID), null),
        'sla.breached': c.slaBreached(breachedData(ID), null, []),
        'incident.opened': c.feederIncident(incidentData(), []),
        'callback.requested': replies.callbackAsk(),
        'reply.error': replies.replyError('stale_code', 'K7Q2'),
      };
      // The dispatch SMS gets its addressee's code when it is drafted (replies/ack-codes.ts).
      rendered['dispatch.assigned'].sms.params.code = 'K7Q2';
      for (const [kind, names] of Object.entries(STAFF_SMS_KINDS)) {
        expect(Object.keys(rendered[kind as keyof typeof STAFF_SMS_KINDS].sms.params).sort(), kind).toEqual([...names].sort());
      }
    });
  }
});
