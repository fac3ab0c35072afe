/**
 * A folder of photos made from the fixture images: each one a fixture photo
 * cropped, resized, maybe mirrored, written as JPEG or PNG, so a batch sees
 * many different files of realistic sizes (the images are not committed).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

/** Fixture photos the derived images are made from (relative to the fixtures' images/ folder). */
export const SOURCE_PHOTOS = ['cat.png', 'bird.png', 'parrot.jpg', 'grace_hopper.png', 'cat_720p.jpg'];

/**
 * Writes `count` images into `dir` as img0000.jpg, img0001.png, ... (alternating JPEG and PNG) and returns
 * their paths in name order. Deterministic: image i depends only on i.
 */
export async function deriveImages(imagesDir: string, dir: string, count: number): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const paths: string[] = [];
  for (let i = 0; i < count; i++) {
    const src = join(imagesDir, SOURCE_PHOTOS[i % SOURCE_PHOTOS.length]!);
    const meta = await sharp(src).metadata();
    const w = meta.width!;
    const h = meta.height!;
    // A crop of 70–100% of each side at an offset that varies with i, then a resize to 200–520 px wide.
    const cw = Math.round(w * (0.7 + 0.3 * (((i * 37) % 11) / 10)));
    const ch = Math.round(h * (0.7 + 0.3 * (((i * 53) % 7) / 6)));
    const left = Math.floor(((w - cw) * ((i * 13) % 5)) / 4);
    const top = Math.floor(((h - ch) * ((i * 7) % 3)) / 2);
    const width = 200 + ((i * 61) % 321);
    let img = sharp(src).extract({ left, top, width: cw, height: ch }).resize({ width });
    if (i % 3 === 1) img = img.flop();
    const name = `img${String(i).padStart(4, '0')}.${i % 2 === 0 ? 'jpg' : 'png'}`;
    const path = join(dir, name);
    await (i % 2 === 0 ? img.jpeg({ quality: 85 }) : img.png()).toFile(path);
    paths.push(path);
  }
  return paths;
}
