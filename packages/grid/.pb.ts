import { generateSampleCounty, createGridIndex } from '@griddispatch/grid';
const county = generateSampleCounty({ scale: 313, customerScale: 1 });
const index = createGridIndex({ grids: county.grids, districts: county.districts, communities: county.communities, nearestWithinMeters: 500 });
const pts = county.districts.map((d) => [d.lon as number, d.lat as number]);
const dq = county.districts.map((d) => d.code);
for (let round = 0; round < 3; round++) {
  let t = performance.now();
  let n = 0;
  for (let k = 0; k < 5; k++) for (const [x, y] of pts) { if (index.resolve({ lon: x, lat: y }).ok) n++; }
  const pt = (performance.now() - t) / n;
  t = performance.now();
  for (let k = 0; k < 5; k++) for (const c of dq) index.resolve({ districtCode: c });
  const dt = (performance.now() - t) / (5 * dq.length);
  t = performance.now();
  for (let k = 0; k < 5; k++) for (const [x, y] of pts) index.resolve({ lon: x + 0.02, lat: y + 0.02 });
  const ot = (performance.now() - t) / (5 * pts.length);
  console.log('point µs', (pt * 1000).toFixed(2), 'district µs', (dt * 1000).toFixed(3), 'mixed-offset µs', (ot * 1000).toFixed(2));
}
