#!/usr/bin/env node
// The `btp` CLI: runs cli/index.ts (TypeScript) with tsx on the project's Node 22 (the `node` devDependency) when it
// is installed, else on the Node running this file. --openssl-legacy-provider: s3rver's continuation tokens (local
// stack).
'use strict';
const { spawnSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const root = path.resolve(__dirname, '..');
const bundled = path.join(root, 'node_modules', 'node', 'bin', 'node');
const node = existsSync(bundled) ? bundled : process.execPath;
// tsx's loader by absolute URL, so `btp` works from any directory.
const tsx = pathToFileURL(path.join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const result = spawnSync(
  node,
  ['--openssl-legacy-provider', '--import', tsx, path.join(root, 'cli', 'index.ts'), ...process.argv.slice(2)],
  {
    stdio: 'inherit',
    env: { ...process.env, NODE_OPTIONS: '' },
    cwd: process.cwd(),
  },
);
if (result.error) {
  console.error(`btp: could not start ${node}: ${result.error.message}`);
  process.exit(1);
}
process.exit(result.status ?? 1);
