import type { Locale, Rendered } from './types.ts';

// The messages of replies by SMS (docs/architecture.md#callbacks-and-replies): the code line a
// staff SMS ends with, the callback ask a caller gets after the restoration, and the answer to a
// reply that could not be taken. Kept apart from the event catalogs: they answer people, not events.

/** Why a reply was not taken; each has its own answer. */
export type ReplyErrorReason = 'unknown_code' | 'stale_code' | 'not_addressee' | 'not_understood';

export interface ReplyCatalog {
  /** Appended to a staff SMS of a dispatch (separator included): how to acknowledge by reply. */
  ackCodeLine(code: string): string;
  /** To a caller of a restored incident. */
  callbackAsk(): Rendered;
  /** Back to whoever sent a reply that could not be taken. */
  replyError(reason: ReplyErrorReason, code: string | null): Rendered;
}

function rendered(text: string, params: Record<string, string>): Rendered {
  return { sms: { text, params }, markdown: text, text };
}

const zhCN: ReplyCatalog = {
  ackCodeLine: (code) => `；回复“1 ${code}”确认接单`,
  callbackAsk: () => rendered('【供电回访】您反映的停电已处理。回复1 已恢复供电，回复2 仍未恢复；可在后面加满意度1-5（5为很满意），如“1 5”。', {}),
  replyError(reason, code) {
    const text = {
      unknown_code: `【供电服务】确认码${code ?? ''}不存在，请核对短信中的确认码后回复“1 确认码”。`,
      stale_code: `【供电服务】确认码${code ?? ''}已失效（工单已确认、已改派或已超时），无需再回复。`,
      not_addressee: `【供电服务】确认码${code ?? ''}不是发给本号码的，未予受理。`,
      not_understood: '【供电回访】未能识别您的回复。请回复1 已恢复供电，或2 仍未恢复；可加满意度1-5，如“1 5”。',
    }[reason];
    return rendered(text, { reason, code: code ?? '' });
  },
};

const en: ReplyCatalog = {
  ackCodeLine: (code) => `. Reply "1 ${code}" to acknowledge`,
  callbackAsk: () =>
    rendered(
      '[Power service] The outage you reported has been dealt with. Reply 1 if power is back, 2 if it is still out; add a satisfaction score 1-5 (5 = very satisfied), e.g. "1 5".',
      {},
    ),
  replyError(reason, code) {
    const text = {
      unknown_code: `[Power service] There is no code ${code ?? ''}: check the code in the message and reply "1 <code>".`,
      stale_code: `[Power service] Code ${code ?? ''} is no longer valid (the work order was acknowledged, reassigned or the code expired); no reply needed.`,
      not_addressee: `[Power service] Code ${code ?? ''} was not sent to this number; nothing was done.`,
      not_understood: '[Power service] Your reply was not understood. Reply 1 if power is back or 2 if it is still out; add a score 1-5, e.g. "1 5".',
    }[reason];
    return rendered(text, { reason, code: code ?? '' });
  },
};

export function replyCatalog(locale: Locale): ReplyCatalog {
  return locale === 'en' ? en : zhCN;
}
