import { defineConfig } from 'vitest/config';

/** `npm run test:image`: builds and runs the container image; needs buildah, debootstrap and the package registries. */
export default defineConfig({
  test: {
    include: ['test/image/**/*.image.ts'],
    testTimeout: 5 * 60_000,
    hookTimeout: 45 * 60_000,
    pool: 'forks',
  },
});
