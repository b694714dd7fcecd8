import { describe, expect, it } from 'vitest';
import { assignedData, breachedData, incidentData, unroutableData, updatedData, warningData } from '../testing/fixtures.ts';
import { catalog, type Rendered } from './index.ts';
import { SMS_KINDS, type SmsKind } from './sms-kinds.ts';

// NOTIFY_SMS_TEMPLATES is checked at boot against SMS_KINDS; this holds SMS_KINDS to what the
// catalog really renders, so a mapping accepted at boot never misses a parameter at send time.

const ID = '0a1b2c3d-0000-4000-8000-000000000001';

describe('SMS message kinds', () => {
  for (const locale of ['zh-CN', 'en'] as const) {
    it(`every kind's parameters are exactly what the ${locale} catalog renders`, () => {
      const c = catalog(locale, 'Asia/Shanghai');
      const rendered: Record<SmsKind, Rendered> = {
        'dispatch.assigned': c.dispatchAssigned(assignedData({ workOrderId: ID })),
        'dispatch.unroutable': c.dispatchUnroutable(unroutableData()),
        'workorder.updated': c.workOrderUpdated(updatedData(ID), null),
        'sla.warning': c.slaWarning(warningData(ID), null),
        'sla.breached': c.slaBreached(breachedData(ID), null, []),
        'incident.opened': c.feederIncident(incidentData(), []),
      };
      for (const [kind, names] of Object.entries(SMS_KINDS)) {
        expect(Object.keys(rendered[kind as SmsKind].sms.params).sort(), kind).toEqual([...names].sort());
      }
    });
  }
});
