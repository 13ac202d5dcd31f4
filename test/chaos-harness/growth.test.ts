import { growth } from '../../chaos/growth';

const MiB = 1024 * 1024;
const rss = { absolute: 16 * MiB, relative: 0.1 };

describe('the soak growth rule', () => {
  it('lets a warm-up that levels off pass', () => {
    const samples = [80, 120, 150, 160, 162, 161, 163, 162, 164].map((m) => m * MiB);
    expect(growth(samples, rss)?.grows).toBe(false);
  });

  it('fails a steady climb into the last third', () => {
    const samples = [80, 100, 120, 140, 160, 180, 200, 220, 240].map((m) => m * MiB);
    expect(growth(samples, rss)).toMatchObject({ grows: true, middle: 160 * MiB, last: 220 * MiB });
  });

  it('ignores growth below the absolute floor, however large its share', () => {
    expect(growth([0, 0, 0, 2, 3, 10, 40, 50, 60], { absolute: 100, relative: 0.5 })?.grows).toBe(
      false,
    );
  });

  it('gives no verdict on fewer than three samples', () => {
    expect(growth([1, 2], rss)).toBeUndefined();
  });
});
