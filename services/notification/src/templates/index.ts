import { en } from './en.ts';
import type { Catalog, Locale } from './types.ts';
import { zhCN } from './zh-CN.ts';

export type { Catalog, Locale, Mention, Rendered, WorkOrderContext } from './types.ts';
export { truncateUtf8 } from './format.ts';

/** The message catalog for a locale (GD_LOCALE, zh-CN by default) and time zone (GD_TIME_ZONE). */
export function catalog(locale: Locale, timeZone: string): Catalog {
  return locale === 'en' ? en(timeZone) : zhCN(timeZone);
}
