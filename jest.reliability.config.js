/** `npm run test:reliability`: the reliability suite (test/reliability), one area at a time through the local stack. */
const base = require('./jest.config');

module.exports = { ...base, testMatch: ['<rootDir>/test/reliability/**/*.test.ts'], testPathIgnorePatterns: [] };
