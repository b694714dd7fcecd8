import type { CustomerNoticeKind, CustomerNoticeV1 } from '@griddispatch/contracts';
import { formatClock } from './format.ts';
import type { Locale } from './types.ts';

// What a customer receives (主动服务), one SMS per stage: the text, and the same content as named
// parameters for vendors whose templates are registered in advance (Alibaba Cloud, Tencent Cloud):
// a vendor adapter maps the message kind (the payload's templateId) to its own template id and
// fills it with these params. Params are short plain strings, as the vendors require.

export interface CustomerMessage {
  text: string;
  params: Record<string, string>;
}

/** Everything a customer text may use: the notice's fields and this recipient's 台区 and account. */
export interface CustomerContext {
  notice: CustomerNoticeV1;
  districtCode: string;
  accountNo: string;
}

/** The parameter names of each kind, in the order the texts use them (the vendor templates' variables). */
export const CUSTOMER_PARAMS: Record<CustomerNoticeKind, readonly string[]> = {
  'outage.detected': ['area', 'account', 'etr'],
  'outage.etr_changed': ['area', 'account', 'etr'],
  'outage.restored': ['area', 'account', 'time'],
  'planned.announced': ['area', 'account', 'start', 'end', 'reason'],
  'planned.reminder': ['area', 'account', 'start', 'end', 'reason'],
  'planned.changed': ['area', 'account', 'start', 'end', 'reason'],
  'planned.cancelled': ['area', 'account', 'start', 'end'],
};

type Params = Record<string, string>;

const ZH: Record<CustomerNoticeKind, (p: Params) => string> = {
  'outage.detected': (p) => `尊敬的客户：您所在的${p.area}（户号尾号${p.account}）发生停电，抢修人员正在处理，预计${p.etr}前恢复供电，无需重复报修。`,
  'outage.etr_changed': (p) => `尊敬的客户：${p.area}（户号尾号${p.account}）停电的预计复电时间调整为${p.etr}，给您带来不便，敬请谅解。`,
  'outage.restored': (p) => `尊敬的客户：${p.area}（户号尾号${p.account}）已于${p.time}恢复供电，感谢您的理解。如仍未来电，请拨打95598。`,
  'planned.announced': (p) => `尊敬的客户：因${p.reason}，${p.area}（户号尾号${p.account}）将于${p.start}至${p.end}停电，请提前做好准备。`,
  'planned.reminder': (p) => `温馨提醒：因${p.reason}，${p.area}（户号尾号${p.account}）将于${p.start}至${p.end}停电，请提前做好准备。`,
  'planned.changed': (p) => `尊敬的客户：${p.area}（户号尾号${p.account}）的停电时间已调整为${p.start}至${p.end}（${p.reason}），请以本条为准。`,
  'planned.cancelled': (p) => `尊敬的客户：原定${p.start}至${p.end}${p.area}（户号尾号${p.account}）的停电已取消，届时正常供电。`,
};

const EN: Record<CustomerNoticeKind, (p: Params) => string> = {
  'outage.detected': (p) =>
    `Dear customer: power is off in ${p.area} (account ending ${p.account}). Our crew is working on it; expected back by ${p.etr}. No need to report it again.`,
  'outage.etr_changed': (p) =>
    `Dear customer: the power in ${p.area} (account ending ${p.account}) is now expected back by ${p.etr}. We are sorry for the delay.`,
  'outage.restored': (p) =>
    `Dear customer: power in ${p.area} (account ending ${p.account}) was restored at ${p.time}. If you are still without power, call 95598.`,
  'planned.announced': (p) =>
    `Dear customer: for ${p.reason}, power in ${p.area} (account ending ${p.account}) will be off from ${p.start} to ${p.end}. Please plan ahead.`,
  'planned.reminder': (p) => `Reminder: for ${p.reason}, power in ${p.area} (account ending ${p.account}) will be off from ${p.start} to ${p.end}.`,
  'planned.changed': (p) =>
    `Dear customer: the planned outage in ${p.area} (account ending ${p.account}) has moved to ${p.start} to ${p.end} (${p.reason}). This notice replaces the earlier one.`,
  'planned.cancelled': (p) =>
    `Dear customer: the outage planned in ${p.area} (account ending ${p.account}) from ${p.start} to ${p.end} is cancelled. Power stays on.`,
};

/** The last four digits of the account: enough for a customer with several, no use to anyone else. */
export function accountTail(accountNo: string): string {
  return accountNo.slice(-4);
}

export function customerMessages(locale: Locale, timeZone: string, now: () => Date): (kind: CustomerNoticeKind, ctx: CustomerContext) => CustomerMessage {
  const texts = locale === 'en' ? EN : ZH;
  // Planned windows always show their day; an outage's ETR only when it is not today.
  const day = (at: string) => formatClock(at, timeZone, '1970-01-01T00:00:00Z');
  const clock = (at: string) => formatClock(at, timeZone, now());
  return (kind, { notice, districtCode, accountNo }) => {
    const all: Params = {
      area: notice.districts[districtCode] ?? districtCode,
      account: accountTail(accountNo),
      etr: notice.etr ? clock(notice.etr) : '',
      time: clock(notice.restoredAt ?? now().toISOString()),
      start: notice.start ? day(notice.start) : '',
      end: notice.end ? day(notice.end) : '',
      reason: notice.reason ?? '',
    };
    const params = Object.fromEntries(CUSTOMER_PARAMS[kind].map((name) => [name, all[name] ?? '']));
    return { text: texts[kind](params), params };
  };
}
