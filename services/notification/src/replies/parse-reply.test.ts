import { describe, expect, it } from 'vitest';
import { ACK_CODE_ALPHABET, newAckCode, parseReply } from './parse-reply.ts';

describe('parseReply', () => {
  it('reads a staff acknowledgement with its code, however it is spaced or cased', () => {
    for (const text of ['1 K7Q2', '1k7q2', ' 1，K7Q2 ', '１ Ｋ７Ｑ２', '1:K7Q2']) expect(parseReply(text)).toEqual({ kind: 'acknowledge', code: 'K7Q2' });
  });

  it('reads a callback answer with and without the satisfaction', () => {
    expect(parseReply('1')).toEqual({ kind: 'callback', reply: 'restored', satisfaction: null });
    expect(parseReply('2')).toEqual({ kind: 'callback', reply: 'still_out', satisfaction: null });
    expect(parseReply('1 5')).toEqual({ kind: 'callback', reply: 'restored', satisfaction: 5 });
    expect(parseReply('2，3')).toEqual({ kind: 'callback', reply: 'still_out', satisfaction: 3 });
    expect(parseReply('满意度4')).toEqual({ kind: 'callback', reply: null, satisfaction: 4 });
    expect(parseReply('s 2')).toEqual({ kind: 'callback', reply: null, satisfaction: 2 });
  });

  it('takes nothing else for an answer', () => {
    for (const text of ['', '3', '1 6', '谢谢', '1 K7Q', '2 K7Q2', '满意度9']) expect(parseReply(text)).toEqual({ kind: 'unknown' });
  });

  it('makes codes of the unambiguous alphabet only', () => {
    let i = 0;
    const seq = [0, 0.999, 0.5, 0.25];
    const code = newAckCode(() => seq[i++ % seq.length]!);
    expect(code).toHaveLength(4);
    for (const ch of code) expect(ACK_CODE_ALPHABET).toContain(ch);
    expect(ACK_CODE_ALPHABET).not.toMatch(/[01OIL]/);
    expect(parseReply(`1 ${code}`)).toEqual({ kind: 'acknowledge', code });
  });
});
