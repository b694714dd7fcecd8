import { describe, expect, it } from 'vitest';
import { DispatchAssignedV1, serializeEvent } from '@griddispatch/contracts';
import { assignedData, assignedEvent } from '../testing/fixtures.ts';
import { createRedactor, hashAccount, maskDigitRuns, maskPhone, reduceName } from './personal-data.ts';

describe('personal data helpers', () => {
  it('masks phones, reduces names, hashes accounts, masks digit runs in free text', () => {
    expect(maskPhone('13812345678')).toBe('138****5678');
    expect(maskPhone('+86 138-1234-5678')).toBe('138****5678');
    expect(maskPhone('027-8765-4321')).toBe('027****4321');
    expect(maskPhone('110')).toBe('****');
    expect(reduceName('王强')).toBe('王*');
    expect(reduceName('欧阳娜娜')).toBe('欧*');
    expect(hashAccount('3300012345', 'k')).toMatch(/^acct_[0-9a-f]{16}$/);
    expect(hashAccount('3300012345', 'k')).toBe(hashAccount('3300012345', 'k'));
    expect(hashAccount('3300012345', 'k')).not.toBe(hashAccount('3300012345', 'other key'));
    expect(maskDigitRuns('鱼塘停电，请联系13812345678或027-87654321，户号3300012345，3号塘')).toBe(
      '鱼塘停电，请联系138****5678或027****4321，户号330***2345，3号塘',
    );
  });

  it('redacts a dispatch.assigned so it still parses as one', () => {
    const data = assignedData();
    data.request.customer = { accountNo: '3300012345', name: '刘德华', phone: '13912345678', classes: ['aquaculture'] };
    data.request.location = { districtCode: 'HH-TQ-017', address: '后湖管理区三组12号', lon: 114.123456, lat: 30.654321 };
    data.request.description = '增氧机停了，回电13912345678';
    const body = createRedactor('k').redactEvent(serializeEvent(assignedEvent(data)));
    for (const secret of ['刘德华', '13912345678', '3300012345', '后湖管理区三组12号', '张伟', '李娜', '王强', '13800000001', 'zhangwei', '114.123456']) {
      expect(body).not.toContain(secret);
    }
    const parsed = DispatchAssignedV1.parse((JSON.parse(body) as { data: unknown }).data);
    expect(parsed.request.customer).toEqual({ accountNo: hashAccount('3300012345', 'k'), name: '刘*', phone: '139****5678', classes: ['aquaculture'] });
    expect(parsed.request.location).toEqual({ districtCode: 'HH-TQ-017', lon: 114.12, lat: 30.65 });
    expect(parsed.grid.name).toBe('后湖3号网格');
    expect(parsed.contacts[0]).toEqual({ staffId: 'S-mgr', name: '张*', role: 'manager', phone: '138****0001' });
    expect(parsed.request.description).toBe('增氧机停了，回电139****5678');
  });
});
