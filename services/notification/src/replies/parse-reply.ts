import type { CallbackReply } from '@griddispatch/contracts';

// What an SMS reply says (docs/architecture.md#callbacks-and-replies). Pure: no database, no clock.

/** Codes use letters and digits that cannot be mistaken for one another (no 0/O, 1/I/L). */
export const ACK_CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export const ACK_CODE_LENGTH = 4;

export type ParsedReply =
  | { kind: 'acknowledge'; code: string }
  | { kind: 'callback'; reply: CallbackReply | null; satisfaction: number | null }
  | { kind: 'unknown' };

// `1 K7Q2` (a space, comma or colon between, or none): the code is any 4 letters or digits, so a
// mistyped code is answered as unknown rather than taken for a callback answer.
const ACK = /^1\s*[,:;]?\s*([A-Z0-9]{4})$/;
// `1`, `2`, `1 5`, `2,3`: the answer, then optionally the satisfaction.
const ANSWER = /^([12])(?:\s*[,;]?\s*([1-5]))?$/;
// `满意度5`, `满意5`, `S5`, `satisfaction 5`: the satisfaction alone (after the answer).
const SATISFACTION = /^(?:满意度?|SATISFACTION|S)\s*[:,]?\s*([1-5])$/;

export function parseReply(text: string): ParsedReply {
  // NFKC folds full-width digits, letters and punctuation (common on phones) to ASCII; 、，；：
  // become the ASCII separators below.
  const t = text.normalize('NFKC').replace(/[、]/g, ',').trim().toUpperCase();
  const ack = ACK.exec(t);
  if (ack) return { kind: 'acknowledge', code: ack[1]! };
  const answer = ANSWER.exec(t);
  if (answer) return { kind: 'callback', reply: answer[1] === '1' ? 'restored' : 'still_out', satisfaction: answer[2] ? Number(answer[2]) : null };
  const sat = SATISFACTION.exec(t);
  if (sat) return { kind: 'callback', reply: null, satisfaction: Number(sat[1]) };
  return { kind: 'unknown' };
}

/** A random code of the alphabet (`random` returns [0, 1)). */
export function newAckCode(random: () => number = Math.random): string {
  let code = '';
  for (let i = 0; i < ACK_CODE_LENGTH; i++) code += ACK_CODE_ALPHABET[Math.floor(random() * ACK_CODE_ALPHABET.length)];
  return code;
}
