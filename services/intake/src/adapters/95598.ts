import { z } from 'zod';
import type { Category, CustomerClass, Urgency } from '@griddispatch/contracts';
import { LocalDateTime, localToIso } from './local-time.ts';
import type { SourceAdapter } from './types.ts';

// State Grid 95598 customer-service work orders (工单), as its interface sends them: pinyin
// initials for field names and code tables for categories, urgency and customer types.

const BUSINESS_CATEGORY: Record<string, Category> = {
  '01': 'fault_repair', // 故障报修
  '02': 'new_connection', // 业扩报装（新装、增容）
  '03': 'billing', // 电费电价
  '04': 'consultation', // 信息咨询
  '05': 'complaint', // 投诉
  '06': 'report', // 举报
  '07': 'service_request', // 服务申请
};

const URGENCY: Record<string, Urgency> = { '1': 'normal', '2': 'urgent', '3': 'critical' }; // 一般 / 紧急 / 特急

const CUSTOMER_CLASS: Record<string, CustomerClass> = {
  '01': 'resident', // 居民
  '02': 'commercial', // 非居民（一般工商业）
  '03': 'aquaculture', // 养殖户
  '04': 'cold_storage', // 冷藏加工
  '05': 'vulnerable', // 特殊群体（孤寡老人、残疾人）
  '06': 'important', // 重要客户（医院、学校）
};

const code = (table: Record<string, unknown>, what: string) =>
  z
    .string()
    .trim()
    .refine((v) => v in table, `unknown ${what} code; expected one of ${Object.keys(table).join(', ')}`);

export const Payload95598 = z.object({
  gdbh: z.string().trim().min(1).max(64).describe('工单编号: 95598 work-order number (idempotency key)'),
  ywlb: code(BUSINESS_CATEGORY, 'ywlb (业务类别)').describe('业务类别: 01 故障报修, 02 业扩报装, 03 电费, 04 咨询, 05 投诉, 06 举报, 07 服务申请'),
  slsj: LocalDateTime.optional().describe('受理时间: accept time, "yyyy-MM-dd HH:mm:ss" local time'),
  jjcd: code(URGENCY, 'jjcd (紧急程度)').optional().describe('紧急程度: 1 一般, 2 紧急, 3 特急'),
  khbh: z.string().trim().min(1).max(64).optional().describe('客户编号: account number (户号)'),
  khmc: z.string().max(100).optional().describe('客户名称: customer name'),
  lxdh: z.string().max(32).optional().describe('联系电话: contact phone'),
  khfl: z
    .union([z.array(code(CUSTOMER_CLASS, 'khfl (客户分类)')).max(6), z.string().trim()])
    .optional()
    .describe('客户分类: 01 居民, 02 非居民, 03 养殖, 04 冷藏加工, 05 特殊群体, 06 重要客户; array or comma list'),
  gzdz: z.string().max(500).optional().describe('故障地址 / 用电地址: address'),
  tqbh: z.string().trim().min(1).max(64).optional().describe('台区编号: transformer-district code'),
  xlbh: z.string().trim().min(1).max(64).optional().describe('线路编号: 10 kV feeder code'),
  slnr: z.string().max(4000).optional().describe('受理内容: what the customer reported'),
  gddw: z.string().max(64).optional().describe('供电单位: supply unit code (informational)'),
});
export type Payload95598 = z.output<typeof Payload95598>;

function classes(value: string[] | string | undefined): CustomerClass[] | string[] | undefined {
  if (value === undefined) return undefined;
  const codes = Array.isArray(value)
    ? value
    : value
        .split(/[,，]/)
        .map((c) => c.trim())
        .filter(Boolean);
  // Unknown codes pass through untranslated, so the contract's validation names them.
  return codes.map((c) => CUSTOMER_CLASS[c] ?? c);
}

export const adapter95598: SourceAdapter<typeof Payload95598> = {
  source: '95598',
  title: 'State Grid 95598 customer-service work order',
  schema: Payload95598,
  toRequest(p, { timeZone }) {
    const customer = {
      accountNo: p.khbh,
      name: p.khmc,
      phone: p.lxdh,
      classes: classes(p.khfl),
    };
    return {
      source: '95598',
      externalId: p.gdbh,
      category: BUSINESS_CATEGORY[p.ywlb],
      description: p.slnr,
      reportedAt: p.slsj ? (localToIso(p.slsj, timeZone) ?? p.slsj) : undefined,
      urgency: p.jjcd ? URGENCY[p.jjcd] : undefined,
      customer: Object.values(customer).some((v) => v !== undefined) ? customer : undefined,
      location: { districtCode: p.tqbh, feederCode: p.xlbh, address: p.gzdz },
    };
  },
  fieldNames: {
    externalId: 'gdbh',
    category: 'ywlb',
    reportedAt: 'slsj',
    urgency: 'jjcd',
    description: 'slnr',
    'customer.accountNo': 'khbh',
    'customer.name': 'khmc',
    'customer.phone': 'lxdh',
    'customer.classes': 'khfl',
    'location.districtCode': 'tqbh',
    'location.feederCode': 'xlbh',
    'location.address': 'gzdz',
    location: 'khbh|tqbh',
  },
  example: {
    gdbh: '2026112342010188',
    ywlb: '01',
    slsj: '2026-11-23 19:40:05',
    jjcd: '2',
    khbh: '4200105566',
    khmc: '张三',
    lxdh: '13812345678',
    khfl: ['03'],
    gzdz: '湖北省武汉市新洲区后湖村三组',
    tqbh: 'HH-TQ-017',
    slnr: '养殖塘增氧机停电，全组无电',
    gddw: '4240110',
  },
};
