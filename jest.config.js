// force timezone to UTC to allow tests to work regardless of local timezone
// generally used by snapshots, but can affect specific tests
process.env.TZ = 'UTC';

const base = require('./.config/jest.config');

module.exports = {
  // Jest configuration provided by Grafana scaffolding
  ...base,
  // The editor tests drive whole forms through user-event: on a busy 2-core machine one can take a
  // minute; a generous per-test limit keeps them from failing on load alone.
  testTimeout: 180000,
  transform: {
    ...base.transform,
    // d3-color and other Grafana dependencies ship ES modules as .mjs
    '^.+\\.mjs$': base.transform['^.+\\.(t|j)sx?$'],
  },
};
