import { z } from 'zod';
import type { Category, Urgency } from '@griddispatch/contracts';
import { LocalDateTime, localToIso } from './local-time.ts';
import type { SourceAdapter } from './types.ts';

// Government social-grid platforms (社会网格化管理平台 / 12345 hotline) dispatch power-related
// cases with camelCase JSON: a case id, an event-type code, the community's administrative code
// and the reporter's position.

const EVENT_TYPE: Record<string, Category> = {
  POWER_OUTAGE: 'fault_repair', // 停电
  POWER_FAULT: 'fault_repair', // 线路/设备故障
  NEW_CONNECTION: 'new_connection', // 报装
  BILLING: 'billing', // 电费
  CONSULTATION: 'consultation', // 咨询
  COMPLAINT: 'complaint', // 投诉
  REPORT: 'report', // 举报（窃电、安全隐患）
  MICRO_WISH: 'service_request', // 微心愿
  SERVICE_REQUEST: 'service_request',
};

const PRIORITY: Record<string, Urgency> = { NORMAL: 'normal', URGENT: 'urgent', CRITICAL: 'critical' };

/** Coordinates arrive as numbers or numeric strings, depending on the platform. */
const coordinate = z.union([
  z.number(),
  z
    .string()
    .trim()
    .regex(/^-?\d{1,3}(\.\d+)?$/, 'expected a decimal number')
    .transform(Number),
]);

export const Payload12345 = z.object({
  caseId: z.string().trim().min(1).max(128).describe('工单号 of the platform (idempotency key)'),
  eventType: z
    .string()
    .trim()
    .refine((v) => v in EVENT_TYPE, `unknown eventType; expected one of ${Object.keys(EVENT_TYPE).join(', ')}`)
    .describe('Event type code'),
  title: z.string().max(200).optional().describe('Case title'),
  content: z.string().max(3500).optional().describe('Case content (诉求内容)'),
  reportTime: LocalDateTime.optional().describe('"yyyy-MM-dd HH:mm:ss" local time the citizen reported'),
  priority: z
    .string()
    .trim()
    .refine((v) => v in PRIORITY, 'expected NORMAL, URGENT or CRITICAL')
    .optional(),
  communityCode: z
    .string()
    .trim()
    .regex(/^\d{12}$/, 'expected the 12-digit administrative code of the community')
    .optional(),
  gridCode: z.string().max(64).optional().describe("The platform's own grid code (informational)"),
  longitude: coordinate.optional(),
  latitude: coordinate.optional(),
  address: z.string().max(500).optional(),
  reporterName: z.string().max(100).optional(),
  reporterPhone: z.string().max(32).optional(),
  accountNo: z.string().trim().min(1).max(64).optional().describe('Power account number, when the citizen knows it'),
  vulnerable: z.boolean().optional().describe('Reporter is elderly living alone, disabled, … (special care)'),
});
export type Payload12345 = z.output<typeof Payload12345>;

export const adapter12345: SourceAdapter<typeof Payload12345> = {
  source: '12345',
  title: 'Social-grid platform / 12345 hotline case',
  schema: Payload12345,
  toRequest(p, { timeZone }) {
    const customer = {
      accountNo: p.accountNo,
      name: p.reporterName,
      phone: p.reporterPhone,
      classes: p.vulnerable ? (['vulnerable'] as const) : undefined,
    };
    const description = [p.title, p.content].filter((t) => t !== undefined && t.trim() !== '').join('：');
    return {
      source: '12345',
      externalId: p.caseId,
      category: EVENT_TYPE[p.eventType],
      description: description || undefined,
      reportedAt: p.reportTime ? (localToIso(p.reportTime, timeZone) ?? p.reportTime) : undefined,
      urgency: p.priority ? PRIORITY[p.priority] : undefined,
      customer: Object.values(customer).some((v) => v !== undefined) ? customer : undefined,
      location: { communityCode: p.communityCode, lon: p.longitude, lat: p.latitude, address: p.address },
    };
  },
  fieldNames: {
    externalId: 'caseId',
    category: 'eventType',
    reportedAt: 'reportTime',
    urgency: 'priority',
    description: 'title+content',
    'customer.accountNo': 'accountNo',
    'customer.name': 'reporterName',
    'customer.phone': 'reporterPhone',
    'location.communityCode': 'communityCode',
    'location.lon': 'longitude',
    'location.lat': 'latitude',
    'location.address': 'address',
    location: 'communityCode|longitude+latitude|accountNo',
  },
  example: {
    caseId: 'WH12345-20261123-000871',
    eventType: 'POWER_OUTAGE',
    title: '小区停电',
    content: '天城镇隽水社区3栋整栋停电两小时，家中有老人',
    reportTime: '2026-11-23 19:32:10',
    priority: 'URGENT',
    communityCode: '421223100002',
    gridCode: 'CY-TC-JS-03',
    longitude: 114.2468,
    latitude: 29.5412,
    address: '崇阳县天城镇隽水社区3栋',
    reporterName: '李四',
    reporterPhone: '13987654321',
    vulnerable: true,
  },
};
