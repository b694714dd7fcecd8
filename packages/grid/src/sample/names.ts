import type { Rng } from './prng.ts';

// Common surnames and given-name characters; combinations are fake people.
const SURNAMES = [
  ...'王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蔡蒋余于杜叶程魏苏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方邹熊白孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝顾龚邵万覃武钱戴严莫孔向常汤',
];
const GIVEN = [...'伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红梅鹏辉建林波宁春燕兰凤云飞国荣新亮成志文斌海峰德胜利金宝水生福来喜旺发兴顺'];

/** Villages / hamlets around a lake: 湾, 墩, 咀 and 洲 are typical of the Jianghan plain. */
export const LAKE_PLACES = [
  '刘家湾',
  '张家墩',
  '湖口',
  '新洲',
  '王家咀',
  '杨柳湖',
  '芦苇荡',
  '李家台',
  '东湖岸',
  '马家湾',
  '胡家墩',
  '渔场',
  '周家洲',
  '藕塘',
  '陈家咀',
  '新堤',
  '石桥',
  '大塘',
  '小湖',
  '鲁家港',
  '熊家湾',
  '彭家墩',
  '潭子湖',
  '荷花洲',
];

/** Streets and lanes of a county town. */
export const TOWN_PLACES = [
  '解放路',
  '人民路',
  '环城路',
  '沿河大道',
  '天城大道',
  '文化路',
  '桂花路',
  '东门街',
  '西门街',
  '南门街',
  '北门街',
  '秀水路',
  '新街',
  '老街',
  '城东巷',
  '城南巷',
  '金城路',
  '隽水路',
  '友谊路',
  '建设路',
];

const SHOPS = ['便利店', '饭店', '农资店', '五金店', '超市', '理发店', '药店', '修理铺', '茶馆', '粮油店'];

export function personName(rng: Rng): string {
  const given = rng.next() < 0.35 ? rng.pick(GIVEN) : rng.pick(GIVEN) + rng.pick(GIVEN);
  return rng.pick(SURNAMES) + given;
}

export function shopName(rng: Rng, places: readonly string[]): string {
  return rng.pick(places) + rng.pick(SURNAMES) + '记' + rng.pick(SHOPS);
}

const MOBILE_PREFIXES = [
  '130',
  '131',
  '132',
  '133',
  '135',
  '136',
  '137',
  '138',
  '139',
  '150',
  '151',
  '152',
  '155',
  '156',
  '158',
  '159',
  '177',
  '180',
  '186',
  '187',
  '189',
  '199',
];

/** An 11-digit mainland mobile number with a real carrier prefix (fake subscriber digits). */
export function mobile(rng: Rng): string {
  let digits = rng.pick(MOBILE_PREFIXES);
  for (let i = 0; i < 8; i++) digits += String(rng.int(0, 9));
  return digits;
}
