import { inflateSync } from 'node:zlib';

// For the Chromium tests: what a screenshot shows, pixel by pixel, without an image library.

/** 8-bit RGB/RGBA, non-interlaced PNG (what Chromium writes) → raw pixels, unfiltered. */
export function decodePng(png: Buffer): { width: number; height: number; channels: number; pixels: Uint8Array } {
  let offset = 8;
  let header: Buffer | undefined;
  const data: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.subarray(offset + 4, offset + 8).toString('latin1');
    const body = png.subarray(offset + 8, offset + 8 + length);
    if (type === 'IHDR') header = body;
    if (type === 'IDAT') data.push(body);
    offset += 12 + length;
  }
  if (!header) throw new Error('PNG without IHDR');
  const width = header.readUInt32BE(0);
  const height = header.readUInt32BE(4);
  const [depth, colourType, , , interlace] = [header[8], header[9], header[10], header[11], header[12]];
  if (depth !== 8 || (colourType !== 2 && colourType !== 6) || interlace !== 0) throw new Error(`unexpected PNG format ${depth}/${colourType}/${interlace}`);
  const channels = colourType === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * channels;
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[y * stride + x - channels]! : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x]! : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels]! : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const predictor = [0, a, b, (a + b) >> 1, paeth][filter];
      if (predictor === undefined) throw new Error(`unknown PNG filter ${filter}`);
      pixels[y * stride + x] = (line[x]! + predictor) & 0xff;
    }
  }
  return { width, height, channels, pixels };
}

/** Pixels within `tolerance` of an RGB colour. */
export function countColour(image: ReturnType<typeof decodePng>, rgb: readonly [number, number, number], tolerance = 8): number {
  let n = 0;
  for (let i = 0; i < image.pixels.length; i += image.channels) {
    if (
      Math.abs(image.pixels[i]! - rgb[0]) < tolerance &&
      Math.abs(image.pixels[i + 1]! - rgb[1]) < tolerance &&
      Math.abs(image.pixels[i + 2]! - rgb[2]) < tolerance
    )
      n++;
  }
  return n;
}
